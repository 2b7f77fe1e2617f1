// Example stack: build two example Tesseracts and serve them.
//   cd examples/serve && pulumi stack init dev && pulumi up
// then: python -c "from tesseract_core import Tesseract; print(Tesseract.from_url('<helloUrl>').apply({'name': 'you'}))"
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { hostCaCertificates, TesseractImage, TesseractService } from "pulumi-tesseract";

const config = new pulumi.Config();
const tesseracts = join(__dirname, "..", "tesseracts");

// Behind a TLS-intercepting proxy, builds must trust its CA (none: undefined).
const caCertificates = hostCaCertificates();

const hello = new TesseractImage("hello", {
  srcDir: join(tesseracts, "hello"),
  caCertificates,
  buildNetwork: "host",
});
const vectoradd = new TesseractImage("vectoradd", {
  srcDir: join(tesseracts, "vectoradd"),
  caCertificates,
  buildNetwork: "host",
});

// Everything engine-wide or on disk is named after the project and stack, so two stacks of this
// example (dev and test, say) run side by side on one engine and one home folder.
const stackName = `${pulumi.getProject()}-${pulumi.getStack()}`;

// Two replicas of hello on a private network (created and removed with the service), with an
// alias other Tesseracts on that network can call. Their output folder is created by the service
// and removed on destroy (with the runtime's run_* records; anything else in it is kept).
const helloService = new TesseractService("hello", {
  image: hello.imageName,
  replicas: config.getNumber("helloReplicas") ?? 2,
  network: config.get("network") ?? `tesseracts-${stackName}`,
  networkAlias: "hello",
  outputPath: join(__dirname, "outputs", pulumi.getStack(), "hello"),
});

// vectoradd on a free host port (set `vectoraddPort`, e.g. 8123, for a fixed one), answering
// base64 arrays by default.
const vectoraddService = new TesseractService("vectoradd", {
  image: vectoradd.imageName,
  port: config.get("vectoraddPort"),
  outputFormat: "json+base64",
  restartPolicy: "unless-stopped",
});

export const helloUrl = helloService.url;
export const helloUrls = helloService.urls;
export const vectoraddUrl = vectoraddService.url;
export const containers = pulumi
  .all([helloService.containerNames, vectoraddService.containerNames])
  .apply(([a, b]) => [...(a ?? []), ...(b ?? [])]);
