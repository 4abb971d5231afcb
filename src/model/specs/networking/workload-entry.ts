// WorkloadEntry spec (networking.istio.io). Istio field names exactly; see ../networking.ts.
export interface WorkloadEntrySpec {
  address?: string;
  /** Port name → port number. */
  ports?: Record<string, number>;
  labels?: Record<string, string>;
  network?: string;
  locality?: string;
  weight?: number;
  serviceAccount?: string;
}
