// Example stack: serve the vectoradd Tesseract as two Slurm jobs (one per compute node), from its
// source in a Python environment on the cluster's shared file system (no Docker on the cluster),
// and call it through the login node. How to run it: README.md in this folder.
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { applyOutput, jacobianOutput, TesseractService } from "pulumi-tesseract";

const config = new pulumi.Config();
const nodes = config.getObject<string[]>("nodes");

const service = new TesseractService("vectoradd", {
  slurm: {
    // sbatch, squeue and scancel run over ssh on the login node; the key is kept a secret.
    login: {
      host: config.require("loginHost"),
      port: config.getNumber("loginPort"),
      user: config.get("loginUser"),
      privateKey: config.requireSecret("privateKey"),
      knownHosts: config.require("knownHosts"),
    },
    // Environment mode: the source is copied to the login node and its environment built once
    // per content hash under workDir (a folder every node sees).
    srcDir: join(__dirname, "..", "tesseracts", "vectoradd"),
    workDir: config.require("workDir"),
    partition: config.get("partition"),
    walltime: config.get("walltime") ?? "8:00:00",
    replicas: config.getNumber("replicas") ?? 2,
    ...(nodes ? { nodes } : {}),
    cpusPerTask: 1,
  },
});

// From this machine each call goes through a tunnel via the login node to a running job.
const inputs = { a: [1, 2], b: [3, 4], s: 2 };
const sum = applyOutput({ url: service.endpoint, inputs });
const jacobian = jacobianOutput({ url: service.endpoint, inputs, jacInputs: ["a"], jacOutputs: ["result"] });

export const jobIds = service.jobIds;
export const urls = service.urls; // in-cluster addresses, for callers on the cluster
export const result = sum.apply((r) => r.outputs.result);
export const dResultDa = jacobian.apply((r) => r.jacobian.result.a);
