// The state of the Kubernetes target (`kubernetesServeTarget`): shapes only, so that the lifecycle
// and the output-key checks can name them without loading the Kubernetes client.
import type { ContainerServiceState } from "../container-state";
import type { ContainerOutputKey, KubernetesOutputKey } from "../serve-target";
import type { KubernetesServiceInputs } from "./manifests";
import type { SchedulingObserved } from "./scheduling";

/** What a Kubernetes-served TesseractService records in state about its objects. */
export interface KubernetesServed {
  /** Name of the Deployment and the Service (and the `pulumi-tesseract.service-id` label). */
  serviceId: string;
  namespace: string;
  /** Kubeconfig context used. */
  context: string;
  /** API server URL. */
  server: string;
  deployment: string;
  service: string;
  /** Name of the pull Secret, when `kubernetes.imagePullSecret` is set. */
  pullSecret?: string;
  /** The image the pods run. */
  image: string;
  /** Port of the Service. */
  port: number;
  /** In-cluster URL of the Service. */
  clusterUrl: string;
  /** What `read` last saw of the Deployment (drift). */
  observed: {
    exists: boolean;
    replicas?: number;
    readyReplicas?: number;
    image?: string;
    /** Placement, annotations, requests and budget as found (absent in states written before they were read back). */
    scheduling?: SchedulingObserved;
    /** Which of `scheduling` differ from the inputs, as `read` saw them. */
    drift?: string[];
  };
}

/** State of a TesseractService on Kubernetes: its resolved inputs plus the objects it made. */
export interface KubernetesServiceState extends KubernetesServiceInputs {
  /** Name of the Deployment and the Service (and the `pulumi-tesseract.service-id` label). */
  serviceId: string;
  /** The API server the objects live on. */
  engine: string;
  /** In-cluster URL of the Service (`http://<service>.<namespace>.svc.cluster.local:<port>`). */
  url: string;
  /** `[url]`: the Service spreads requests over the replicas. */
  urls: string[];
  namespace: string;
  deployment: string;
  service: string;
  /** What was created and last seen (drift). */
  served: KubernetesServed;
}

/**
 * A Kubernetes state as stored: versions before typed targets also kept the container target's
 * outputs, empty (`containers: []`, `networkCreated: false`, ...), so that both targets had one
 * shape. Such states still read, diff, update and delete; the next write leaves those keys out.
 */
export type StoredKubernetesState = KubernetesServiceState &
  Partial<Pick<ContainerServiceState, Exclude<ContainerOutputKey, KubernetesOutputKey>>>;
