// The parts of a v1 Pod the test node agent reads (the API's field names).
export interface KeyRef { name: string; key: string; optional?: boolean }
export interface NameRef { name: string; optional?: boolean }

export interface Probe {
  httpGet?: { path?: string; port: number | string; host?: string; scheme?: string; httpHeaders?: { name: string; value: string }[] };
  tcpSocket?: { port: number | string; host?: string };
  exec?: { command: string[] };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}

export interface PodContainer {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string }; configMapKeyRef?: KeyRef; secretKeyRef?: KeyRef; resourceFieldRef?: unknown } }[];
  envFrom?: { prefix?: string; configMapRef?: NameRef; secretRef?: NameRef }[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean; subPath?: string; subPathExpr?: string }[];
  securityContext?: { runAsUser?: number; runAsGroup?: number; readOnlyRootFilesystem?: boolean };
  readinessProbe?: Probe;
  startupProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { postStart?: { exec?: { command: string[] }; httpGet?: unknown }; preStop?: unknown };
}

export interface ProjectedSource {
  serviceAccountToken?: { audience?: string; expirationSeconds?: number; path: string };
  configMap?: NameRef & { items?: { key: string; path: string }[] };
  secret?: NameRef & { items?: { key: string; path: string }[] };
  downwardAPI?: { items?: { path: string; fieldRef?: { fieldPath: string } }[] };
}

export interface PodVolume {
  name: string;
  emptyDir?: object;
  configMap?: NameRef & { items?: { key: string; path: string }[] };
  secret?: { secretName: string; optional?: boolean; items?: { key: string; path: string }[] };
  projected?: { sources?: ProjectedSource[] };
  downwardAPI?: { items?: { path: string; fieldRef?: { fieldPath: string } }[] };
  [other: string]: unknown;
}

export interface Pod {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string>; deletionTimestamp?: string; deletionGracePeriodSeconds?: number; [k: string]: unknown };
  spec: {
    nodeName?: string;
    schedulerName?: string;
    hostname?: string;
    hostNetwork?: boolean;
    serviceAccountName?: string;
    restartPolicy?: "Always" | "OnFailure" | "Never";
    terminationGracePeriodSeconds?: number;
    securityContext?: { runAsUser?: number; runAsGroup?: number };
    initContainers?: (PodContainer & { restartPolicy?: string })[];
    containers: PodContainer[];
    volumes?: PodVolume[];
  };
  status?: { phase?: string; podIP?: string; hostIP?: string; [k: string]: unknown };
}
