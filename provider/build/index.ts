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
  SOURCE_INPUTS,
  TESSERACT_IMAGE_SECRETS,
  type TesseractImageInputs,
  type TesseractImageOutputs,
  tesseractImageSchema,
} from "./inputs";
export { BuildLogTracker } from "./log";
export { BUILD_LABEL_KEYS, type PreparedBuild, prepareBuild } from "./prepare";
