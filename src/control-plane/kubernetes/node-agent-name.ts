// The node agent's name and label, shared by `amime install` (its DaemonSet) and
// `amime analyze --use-kube` (which looks for that DaemonSet).
export const NODE_AGENT_NAME = "amime-node-agent";
export const NODE_AGENT_LABEL_SELECTOR = `app=${NODE_AGENT_NAME}`;
