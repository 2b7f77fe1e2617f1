export { TesseractBuildError } from "./errors";
export {
  type BuildTesseractImageOptions,
  type BuiltImageRecord,
  type BuiltTesseractImage,
  buildTesseractImage,
  type GeneratedTesseractContext,
  releasePreviousBuild,
  removeTesseractImage,
} from "./image";
export {
  buildKitOnlyProblems,
  SECRET_INPUTS,
  SOURCE_INPUTS,
  type TesseractImageInputs,
  type TesseractImageOutputs,
  tesseractImageSchema,
} from "./inputs";
export { BuildLogTracker } from "./log";
export { BUILD_LABEL_KEYS, type PreparedBuild, prepareBuild } from "./prepare";
