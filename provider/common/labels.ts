/**
 * The label keys this package puts on what it creates (images, containers, networks). They are
 * read back to recognize its own objects, so they never change.
 */
export const LABELS = {
  /** `true` on everything the provider created. */
  managed: "pulumi-tesseract.managed",
  /** Image: sha256 over the build context and options. */
  contextHash: "pulumi-tesseract.context-hash",
  /** Image: short build id (first 16 hex digits of the context hash). */
  build: "pulumi-tesseract.build",
  /** Container: the Pulumi resource name of its service. */
  service: "pulumi-tesseract.service",
  /** Container: the service's id (container-name prefix). */
  serviceId: "pulumi-tesseract.service-id",
  /** Container: stack and project of the service. */
  stack: "pulumi-tesseract.stack",
  project: "pulumi-tesseract.project",
  /** Container: replica key `<image index>-<replica index>`. */
  replica: "pulumi-tesseract.replica",
  /** Container: the image reference it serves. */
  image: "pulumi-tesseract.image",
  /** Network: `project/stack/service` of the service that created it (and removes it). */
  networkOwner: "pulumi-tesseract.network-owner",
  /** Container: the run id of a `runTesseract` container. */
  run: "pulumi-tesseract.run",
  /** Container: the id of a `TesseractClient.fromImage` server. */
  fromImage: "pulumi-tesseract.from-image",
  /** Image: the endpoints `tesseract_api.py` defines, comma-separated (read by `getTesseractImages`). */
  endpoints: "pulumi-tesseract.endpoints",
} as const;
