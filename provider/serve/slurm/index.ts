/**
 * Serving a Tesseract as Slurm jobs (issue 25): inputs, the cluster seam and its ssh
 * implementation, job scripts, environment mode's environments, tunnels and replicas; the
 * TesseractService target over them is slurm-target.ts (loaded by ../select.ts). See docs/slurm.md.
 */
export * from "./cluster";
export * from "./environment";
export * from "./inputs";
export * from "./job-script";
export * from "./replicas";
export * from "./ssh";
export * from "./ssh-cluster";
export * from "./tunnel";
