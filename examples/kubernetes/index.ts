// Example stack: build the hello Tesseract, push it to a registry, serve 3 replicas on Kubernetes
// and call it through the package's functions. How to run it: README.md in this folder.
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { applyOutput, hostCaCertificates, TesseractImage, TesseractService } from "pulumi-tesseract";

const config = new pulumi.Config();
const registry = config.require("registry");
const user = config.get("registryUser");
const password = config.getSecret("registryPassword");
const kubeconfig = config.getSecret("kubeconfig") ?? config.get("kubeconfigPath");

// Built on the local Docker engine, then pushed: `repoDigest` is what the cluster pulls.
const hello = new TesseractImage("hello", {
  srcDir: join(__dirname, "..", "tesseracts", "hello"),
  caCertificates: hostCaCertificates(),
  buildNetwork: "host",
  push: {
    registry,
    repository: config.get("repository") ?? "tesseracts/hello",
    ...(user && password ? { username: user, password } : {}),
  },
});

// A Deployment of 3 replicas (rolling updates never drop below 3 ready) behind a Service.
const service = new TesseractService("hello", {
  image: hello,
  replicas: config.getNumber("replicas") ?? 3,
  memory: "512m",
  kubernetes: {
    kubeconfig,
    context: config.get("context"),
    namespace: config.get("namespace") ?? "default",
    // The cluster needs the registry credentials too (a dockerconfigjson Secret next to the Deployment).
    imagePullSecret: user && password ? { registry, username: user, password } : undefined,
  },
});

// From this machine, calls go through a port-forward to the Service's ready pods.
const greeting = applyOutput({ url: service.endpoint, inputs: { name: "Kubernetes" } });

export const repoDigest = hello.repoDigest;
export const clusterUrl = service.url; // for callers inside the cluster
export const deployment = service.deployment;
export const namespace = service.namespace;
export const answer = greeting.outputs;
