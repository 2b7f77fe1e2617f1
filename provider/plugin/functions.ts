/**
 * The functions the plugin serves as invokes (`fn::invoke` in YAML, `apply` / `apply_output` … in
 * Python): one entry per function, read by the invoke handler (`provider.ts`) and by the schema
 * generator (`scripts/plugin/gen-schema.ts`, which takes the names, types and descriptions from the
 * TypeScript declarations named here), so a function cannot be served without its schema or the
 * other way round.
 */

import { RUN_TESSERACT_SECRETS } from "../common/secret-fields";
import { secretTopKeys } from "../common/secrets";
import * as functions from "../functions";
import {
  getTesseractContainers,
  getTesseractImages,
  type TesseractContainerInfo,
  type TesseractImageInfo,
} from "../listing/list-tesseracts";
import { getTesseractServiceLogs, type TesseractServiceLog } from "../listing/service-logs";
import { runMarked } from "../run/run-tesseract";
import { runTesseractTests } from "../test-cases/run-tesseract-tests";

/** Result of the `getTesseractImages` invoke (a Pulumi function returns an object, not a list). */
export interface GetTesseractImagesResult {
  /** The Tesseract images on the engine (`tesseract list`), newest first. */
  readonly images: TesseractImageInfo[];
}

/** Result of the `getTesseractContainers` invoke. */
export interface GetTesseractContainersResult {
  /** The containers of Tesseract images on the engine (`tesseract ps`), by name. */
  readonly containers: TesseractContainerInfo[];
}

/** Result of the `getTesseractServiceLogs` invoke. */
export interface GetTesseractServiceLogsResult {
  /** One entry per container (Docker) or pod (Kubernetes), in order. */
  readonly logs: TesseractServiceLog[];
}

/** One function served as an invoke. */
export interface PluginFunction {
  /** `tesseract:index:<name>`. */
  readonly token: string;
  /** The TypeScript function; its JSDoc is the schema's description. */
  readonly fn: string;
  /** The TypeScript type of its arguments (the schema's inputs). */
  readonly args: string;
  /** The TypeScript type of its result (the schema's outputs); an object type. */
  readonly result: string;
  /** Arguments a program cannot send (e.g. an `AbortSignal`): left out of the schema. */
  readonly omit?: readonly string[];
  /** Top-level arguments that are, or hold, secrets (the schema marks them `secret`). */
  readonly secret?: readonly string[];
  /**
   * Runs the function on plain arguments. `secretPaths` are the dotted paths of the arguments the
   * program marked secret, for functions that keep them out of their error messages.
   */
  call(args: any, secretPaths: string[]): Promise<unknown>;
}

/** `docker.keyPem` is a TLS key wherever a Docker connection is taken. */
const DOCKER_SECRET = secretTopKeys(["docker.keyPem"]);

/** Every function the plugin serves, in schema order. */
export const PLUGIN_FUNCTIONS: readonly PluginFunction[] = [
  {
    token: "tesseract:index:apply",
    fn: "apply",
    args: "ApplyArgs",
    result: "ApplyResult",
    call: (a) => functions.apply(a),
  },
  {
    token: "tesseract:index:jacobian",
    fn: "jacobian",
    args: "JacobianArgs",
    result: "JacobianResult",
    call: (a) => functions.jacobian(a),
  },
  {
    token: "tesseract:index:jacobianVectorProduct",
    fn: "jacobianVectorProduct",
    args: "JacobianVectorProductArgs",
    result: "JacobianVectorProductResult",
    call: (a) => functions.jacobianVectorProduct(a),
  },
  {
    token: "tesseract:index:vectorJacobianProduct",
    fn: "vectorJacobianProduct",
    args: "VectorJacobianProductArgs",
    result: "VectorJacobianProductResult",
    call: (a) => functions.vectorJacobianProduct(a),
  },
  {
    token: "tesseract:index:abstractEval",
    fn: "abstractEval",
    args: "AbstractEvalArgs",
    result: "AbstractEvalResult",
    call: (a) => functions.abstractEval(a),
  },
  {
    token: "tesseract:index:getOpenApiSchema",
    fn: "getOpenApiSchema",
    args: "GetOpenApiSchemaArgs",
    result: "GetOpenApiSchemaResult",
    call: (a) => functions.getOpenApiSchema(a),
  },
  {
    token: "tesseract:index:runTesseract",
    fn: "runTesseract",
    args: "RunTesseractArgs",
    result: "RunTesseractResult",
    omit: ["signal"],
    secret: secretTopKeys(RUN_TESSERACT_SECRETS),
    // The paths the program marked secret stay out of the argument errors, as in runTesseractOutput.
    call: (args, secretPaths) => runMarked(args, secretPaths),
  },
  {
    token: "tesseract:index:getTesseractImages",
    fn: "getTesseractImages",
    args: "ListTesseractsArgs",
    result: "GetTesseractImagesResult",
    secret: DOCKER_SECRET,
    call: async (args) => ({ images: await getTesseractImages(args) }),
  },
  {
    token: "tesseract:index:getTesseractContainers",
    fn: "getTesseractContainers",
    args: "ListTesseractContainersArgs",
    result: "GetTesseractContainersResult",
    secret: DOCKER_SECRET,
    call: async (args) => ({ containers: await getTesseractContainers(args) }),
  },
  {
    token: "tesseract:index:getTesseractServiceLogs",
    fn: "getTesseractServiceLogs",
    args: "TesseractServiceLogsArgs",
    result: "GetTesseractServiceLogsResult",
    secret: DOCKER_SECRET,
    call: async (args) => ({ logs: await getTesseractServiceLogs(args) }),
  },
  {
    token: "tesseract:index:runTesseractTests",
    fn: "runTesseractTests",
    args: "RunTesseractTestsArgs",
    result: "RunTesseractTestsResult",
    secret: DOCKER_SECRET,
    call: (args) => runTesseractTests(args),
  },
];
