/**
 * The few fields kport reads of Kubernetes objects, as they arrive on the wire (JSON:
 * timestamps are strings). client-node's models type them as Dates, which raw watch
 * events are not, so kport keeps its own narrow view.
 */

/** Object metadata kport reads. */
export interface Meta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
}

/** A named container port. */
export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
}

/** A pod as kport sees it. */
export interface Pod {
  metadata: Meta;
  /** `hostname` and `subdomain` give a pod its DNS name under a headless service (a StatefulSet's pods have them). */
  spec?: { containers?: { name: string; ports?: ContainerPort[] }[]; hostname?: string; subdomain?: string };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; lastTransitionTime?: string }[];
    podIP?: string;
    podIPs?: { ip: string }[];
  };
}

/** A service port: `port` is what clients use, `targetPort` what the pod serves (number or name). */
export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
}

/** A service as kport sees it. */
export interface Service {
  metadata: Meta;
  /** `clusterIP: None` is a headless service; ExternalName services name a host outside the cluster. */
  spec?: { selector?: Record<string, string>; ports?: ServicePort[]; type?: string; clusterIP?: string; clusterIPs?: string[]; externalName?: string };
}

/** A reference from an endpoint to its pod. */
export interface TargetRef {
  kind?: string;
  name?: string;
  namespace?: string;
}

/** `discovery.k8s.io/v1` EndpointSlice. */
export interface EndpointSlice {
  metadata: Meta;
  endpoints?: { addresses: string[]; conditions?: { ready?: boolean; terminating?: boolean }; targetRef?: TargetRef }[];
}

/** Core v1 Endpoints (Kubernetes before discovery.k8s.io/v1). */
export interface Endpoints {
  metadata: Meta;
  subsets?: { addresses?: { ip: string; targetRef?: TargetRef }[] }[];
}

/** A workload's label selector. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** A deployment, statefulset or replicaset: only its selector matters here. */
export interface Workload {
  metadata: Meta;
  spec?: { selector?: LabelSelector };
}
