/**
 * Lifecycle of a TesseractImage: maps Pulumi's check/diff/create/read/update/delete to the build
 * operations of `provider/build/`. Loaded by package name from the provider shim (see
 * tesseract-image.ts); the exported names are part of the stack-state contract.
 */

import { isDeepStrictEqual } from "node:util";
import type * as pulumi from "@pulumi/pulumi";
import {
  type BuiltTesseractImage,
  buildKitOnlyProblems,
  buildTesseractImage,
  prepareBuild,
  releasePreviousBuild,
  removeTesseractImage,
  SOURCE_INPUTS,
  TESSERACT_IMAGE_SECRETS,
  type TesseractImageInputs,
  type TesseractImageOutputs,
  tesseractImageSchema,
} from "../build";
import { withMachineDefaults } from "../build/machine-defaults";
import { pushImage, recordedPush } from "../build/push";
import { type CheckFailure, checkInputs, failureOf, splitInputs } from "../common/check";
import { Progress } from "../common/log";
import { toPlainJson } from "../common/plain";
import { inResource, keepUrn, takeUrn } from "../common/resource-context";
import { InputSecrets, scrubbingErrors, withoutMarks } from "../common/secrets";
import { containsUnknown, UNKNOWN } from "../common/unknown";
import { namedEngine } from "../docker/connection";
import { engineFor } from "../docker/engine";
import { TesseractSourceError } from "../tesseract-config";

// Kept importable from here for tests, benches and older callers.
export {
  type BuildTesseractImageOptions,
  type BuiltTesseractImage,
  buildTesseractImage,
  type PreparedBuild,
  prepareBuild,
  removeTesseractImage,
  type TesseractImageInputs,
  type TesseractImageOutputs,
} from "../build";
export { UNKNOWN };

// ---- check ------------------------------------------------------------------------------------

/**
 * Validates the inputs; at preview the sources are checked once every input shaping them is known.
 * No failure repeats a secret (the resource's secret fields or values the program marked secret).
 */
export async function check(
  _olds: TesseractImageInputs,
  raw: TesseractImageInputs,
): Promise<pulumi.dynamic.CheckResult<TesseractImageInputs>> {
  const { urn, inputs } = takeUrn(raw);
  const result = await checkImage(inputs);
  return { ...result, inputs: keepUrn(result.inputs ?? inputs, urn) };
}

async function checkImage(given: TesseractImageInputs): Promise<pulumi.dynamic.CheckResult<TesseractImageInputs>> {
  const secrets = new InputSecrets(given, TESSERACT_IMAGE_SECRETS);
  let news: TesseractImageInputs;
  try {
    news = withMachineDefaults(given);
  } catch (err) {
    return { inputs: withoutMarks(given), failures: secrets.guard(failuresOf(err)) };
  }
  const inputs = withoutMarks(news);
  const refused = buildKitOnlyProblems(inputs);
  if (refused.length) return { inputs, failures: secrets.guard(refused) };
  const checked = checkInputs(tesseractImageSchema, news, { secretPaths: TESSERACT_IMAGE_SECRETS });
  if (checked.failures.length) return { inputs, failures: checked.failures };
  if (!checked.data || SOURCE_INPUTS.some((k) => checked.unknownKeys.has(k))) return { inputs };
  try {
    prepareBuild(checked.data);
  } catch (err) {
    return { inputs, failures: secrets.guard(failuresOf(err)) };
  }
  return { inputs };
}

/** Check failures of a source problem: the property comes with the error, never from its text. */
function failuresOf(err: unknown): CheckFailure[] {
  if (err instanceof TesseractSourceError) return err.problems.map((p) => ({ property: err.input, reason: p }));
  return [failureOf(err, "srcDir")];
}

// ---- diff -------------------------------------------------------------------------------------

/** Rebuilds when the context hash (sources, config, options) changes; another engine replaces. */
export async function diff(
  _id: string,
  olds: TesseractImageOutputs,
  raw: TesseractImageInputs,
): Promise<pulumi.dynamic.DiffResult> {
  const news = takeUrn(raw).inputs;
  const replaces: string[] = [];
  // Another engine (host or context) means another image: replace.
  if (!containsUnknown(news.docker) && namedEngine(news.docker) !== namedEngine(olds.docker)) replaces.push("docker");
  if (splitInputs(news).hasUnknowns) return { changes: true, replaces };
  let hash: string;
  try {
    hash = prepareBuild(news).contextHash;
  } catch {
    return { changes: true, replaces }; // update reports the problem
  }
  // A new push target (not new credentials) pushes again; an unchanged one never does.
  const pushChanged = !isDeepStrictEqual(toPlainJson(recordedPush(news.push) ?? null), toPlainJson(olds.push ?? null));
  return { changes: hash !== olds.contextHash || pushChanged || replaces.length > 0, replaces };
}

// ---- create -----------------------------------------------------------------------------------

function outputsOf(built: BuiltTesseractImage): TesseractImageOutputs {
  const { log: _log, ...outs } = built;
  return toPlainJson(outs);
}

/** Builds the image from the plain inputs (without `__provider`), then pushes it when `push` is set. */
async function build(news: TesseractImageInputs): Promise<BuiltTesseractImage> {
  const inputs = splitInputs(news).inputs as TesseractImageInputs;
  const built = await buildTesseractImage(news.srcDir, inputs);
  if (!inputs.push) return built;
  // A failed push throws with the registry named; the built image stays (only the push failed).
  const progress = new Progress(`TesseractImage ${built.imageName}`, [inputs.push.password]);
  const tag = built.imageName.slice(built.imageName.lastIndexOf(":") + 1);
  const pushed = await pushImage(engineFor(inputs.docker), built.imageId, inputs.push, tag, progress);
  return {
    ...built,
    push: recordedPush(inputs.push),
    repoDigest: pushed.repoDigest,
    pushedReference: pushed.reference,
  };
}

/** The local tags of a build, the push's included. */
function allTags(outs: TesseractImageOutputs): TesseractImageOutputs {
  return outs.pushedReference ? { ...outs, tags: [...(outs.tags ?? []), outs.pushedReference] } : outs;
}

export async function create(raw: TesseractImageInputs): Promise<{ id: string; outs: TesseractImageOutputs }> {
  const { urn, inputs } = takeUrn(raw);
  return inResource(urn, async () => {
    const built = await scrubbingErrors(new InputSecrets(inputs, TESSERACT_IMAGE_SECRETS), () => build(inputs));
    return { id: built.imageName, outs: outputsOf(built) };
  });
}

// ---- read -------------------------------------------------------------------------------------

export async function read(
  id: string,
  props: TesseractImageOutputs,
): Promise<pulumi.dynamic.ReadResult<TesseractImageOutputs>> {
  const image = props.imageId ? await engineFor(props.docker).inspectImage(props.imageId) : undefined;
  // Removed out of band: an empty id tells the engine the resource is gone, so `up --refresh` rebuilds it.
  if (!image) return { id: "", props: {} as TesseractImageOutputs };
  const tags = image.RepoTags ?? [];
  const allTagged = (props.tags ?? []).every((t) => tags.includes(t));
  // A tag moved or removed by hand: mark the state stale so the next diff rebuilds (from cache) and retags.
  return {
    id,
    props: toPlainJson({ ...props, contextHash: allTagged ? props.contextHash : `stale:${props.contextHash}` }),
  };
}

// ---- update -----------------------------------------------------------------------------------

/** Rebuilds (reusing the layer cache), then drops what the old build had and the new one does not. */
export async function update(
  _id: string,
  olds: TesseractImageOutputs,
  raw: TesseractImageInputs,
): Promise<{ outs: TesseractImageOutputs }> {
  const { urn, inputs: news } = takeUrn(raw);
  return inResource(urn, async () => {
    const built = await scrubbingErrors(new InputSecrets(news, TESSERACT_IMAGE_SECRETS), () => build(news));
    await releasePreviousBuild(allTags(olds), allTags(built));
    return { outs: outputsOf(built) };
  });
}

// ---- delete -----------------------------------------------------------------------------------

export async function remove(_id: string, props: TesseractImageOutputs): Promise<void> {
  // Only local tags go: the registry keeps what was pushed (its history is the registry's to prune).
  await removeTesseractImage(allTags(props));
}

/** The name providers serialized by earlier versions call on delete. */
export const del = remove;
