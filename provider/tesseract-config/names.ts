/** Docker image tags: what upstream and Docker accept after the `:`. */
export const TAG_PATTERN = /^[A-Za-z0-9_.-]+$/;

/** Problem with a tag, or undefined when it is valid. */
export function tagProblem(tag: string): string | undefined {
  if (tag.length < 1 || tag.length > 128) return `tag ${JSON.stringify(tag)} must be 1 to 128 characters long`;
  if (!TAG_PATTERN.test(tag))
    return `tag ${JSON.stringify(tag)} may only contain letters, digits, "_", "." and "-" (fix: e.g. "1.0.0" or "dev")`;
  if (/^[.-]/.test(tag)) return `tag ${JSON.stringify(tag)} must not start with "." or "-"`;
  return undefined;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?$/;

/**
 * Problem with an image repository name (Docker's reference grammar: optional registry host, then
 * lowercase path components separated by "/"), or undefined when it is valid.
 */
export function imageNameProblem(name: string): string | undefined {
  if (!name) return "the image name must not be empty";
  if (name.length > 255) return `image name ${JSON.stringify(name)} is longer than 255 characters`;
  const parts = name.split("/");
  const hasDomain = parts.length > 1 && (parts[0].includes(".") || parts[0].includes(":") || parts[0] === "localhost");
  if (hasDomain && !DOMAIN.test(parts[0]))
    return `image name ${JSON.stringify(name)}: ${JSON.stringify(parts[0])} is not a valid registry host`;
  for (const c of hasDomain ? parts.slice(1) : parts) {
    if (!COMPONENT.test(c)) {
      const lower = c.toLowerCase().replace(/[^a-z0-9._-]+/g, "-");
      return (
        `image name ${JSON.stringify(name)} is not a valid Docker repository name: ${JSON.stringify(c)} must be lowercase letters and digits, ` +
        `separated by ".", "_", "__" or "-" (fix: set \`name: ${hasDomain ? `${parts[0]}/` : ""}${lower}\` in tesseract_config.yaml or configOverride {name: ...})`
      );
    }
  }
  return undefined;
}

/** Tags as upstream makes them: `name:<tag>` when a tag is given, else `name:version` and `name:latest`. */
export function imageTags(name: string, version: string, tag?: string): string[] {
  return tag ? [`${name}:${tag}`] : [...new Set([`${name}:${version}`, `${name}:latest`])];
}

/** Problem with a `name:tag` image reference (e.g. TesseractImage's `extraTags`), or undefined when it is valid. */
export function referenceProblem(reference: string): string | undefined {
  const colon = reference.lastIndexOf(":");
  if (colon <= reference.lastIndexOf("/"))
    return `${JSON.stringify(reference)} needs a tag (fix: name:tag, e.g. "team/hello:stable")`;
  const name = reference.slice(0, colon);
  if (imageNameProblem(name))
    return `${JSON.stringify(reference)}: ${JSON.stringify(name)} is not a valid Docker repository name (fix: lowercase, e.g. "team/hello:stable")`;
  return tagProblem(reference.slice(colon + 1));
}
