/**
 * Generates the Pulumi package schema of the `tesseract` provider plugin from the TypeScript API:
 * property names, types, optionality and descriptions come from the resources' definitions
 * (provider/resources/definitions/: the JSDoc'd plain inputs behind each `…Args` (`ArgsOf<…>`, or
 * `ArgsWithResources<…>`, whose mapped members keep the definition's declarations), the outputs,
 * secret paths and replace keys), the resource classes' remaining `declare readonly`
 * outputs and the functions' `…Args` / `…Result` types,
 * so the TypeScript API and the schema (and the SDKs generated from it) cannot drift apart.
 *
 *   npx tsx scripts/plugin/gen-schema.ts          # rewrites provider/plugin/schema.generated.ts
 *   npx tsx scripts/plugin/gen-schema.ts --check  # exits 1 when the committed file is stale
 *
 * test/integration/plugin-schema-fresh.test.ts runs the same generation and compares.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as ts from "typescript";
import { secretTopKeys } from "../../provider/common/secrets";
import { PLUGIN_FUNCTIONS } from "../../provider/plugin/functions";
import * as taskGroup from "../../provider/resources/definitions/task-group";
import * as image from "../../provider/resources/definitions/tesseract-image";
import * as service from "../../provider/resources/definitions/tesseract-service";
import { REPLACE_ON_CHANGES as CONTAINER_REPLACES } from "../../provider/resources/tesseract-service-impl";
import { KUBERNETES_REPLACE_ON_CHANGES } from "../../provider/serve/kubernetes/kubernetes-target";

const ROOT = resolve(__dirname, "../..");
export const GENERATED_FILE = join(ROOT, "provider/plugin/schema.generated.ts");

type Spec = Record<string, unknown>;
const ANY = { $ref: "pulumi.json#/Any" };

/** Where each schema element comes from in the TypeScript sources. */
const RESOURCES = [
  {
    token: "tesseract:index:TesseractImage",
    file: "provider/resources/tesseract-image.ts",
    cls: "TesseractImage",
    args: "TesseractImageArgs",
    outputs: "TesseractImageOutputFields",
    // Inputs the provider also keeps in the resource's state.
    stateInputs: image.TESSERACT_IMAGE_STATE_INPUTS,
    // The top-level inputs of the resource's secret fields; the rest are secret only when given as secrets.
    secret: secretTopKeys(image.TESSERACT_IMAGE_SECRETS),
    replaceOnChanges: [] as string[],
  },
  {
    token: "tesseract:index:TesseractService",
    file: "provider/resources/tesseract-service.ts",
    cls: "TesseractService",
    args: "TesseractServiceArgs",
    // The definition's outputs, then the class's own fields (`endpoint`, computed in the program).
    outputs: "TesseractServiceOutputFields",
    stateInputs: "all",
    secret: secretTopKeys(service.TESSERACT_SERVICE_SECRETS),
    // A schema's replaceOnChanges makes the engine replace whatever the provider's diff says, so it
    // holds only what replaces on every target (none: an `image` change replaces the containers on
    // an engine and rolls the Deployment in place on Kubernetes; the diff decides, per target).
    // `serviceName` is derived from the resource's name, not an input.
    replaceOnChanges: CONTAINER_REPLACES.filter(
      (k) => k !== "serviceName" && (KUBERNETES_REPLACE_ON_CHANGES as readonly string[]).includes(k),
    ) as string[],
  },
  {
    token: "tesseract:index:TaskGroup",
    file: "provider/resources/task-group.ts",
    cls: "TaskGroup",
    args: "TaskGroupArgs",
    // The definition's outputs (definitions/task-group.ts; the class takes its fields from them).
    outputs: "TaskGroupOutputFields",
    stateInputs: "all",
    secret: secretTopKeys(taskGroup.TASK_GROUP_SECRETS),
    // The definition's replace keys minus the hashes the provider derives from files (not inputs);
    // test/unit/plugin-schema.test.ts checks them against its diff.
    replaceOnChanges: taskGroup.TASK_GROUP_REPLACE_ON_CHANGES.filter(
      (k) => !(taskGroup.TASK_GROUP_DERIVED_INPUTS as readonly string[]).includes(k),
    ) as string[],
  },
] as const;

// Functions: provider/plugin/functions.ts (PLUGIN_FUNCTIONS), the table the invoke handler serves.

/** Schema names of the object types the API refers to by TypeScript name. */
const TYPE_NAMES: Record<string, string> = {
  DockerConnection: "DockerConnection",
  TaskGroupPip: "TaskGroupPip",
  TaskGroupCustom: "TaskGroupCustom",
  TaskGroupServer: "TaskGroupServer",
  TaskGroupPixi: "TaskGroupPixi",
  TaskGroupTask: "TaskGroupTask",
  TaskInfo: "TaskGroupTask",
  TesseractServiceContainer: "TesseractServiceContainer",
  ContainerRecord: "TesseractServiceContainer",
  RegistryPush: "RegistryPush",
  RegistryPushInput: "RegistryPush",
  KubernetesTargetFields: "KubernetesTarget",
  KubernetesEndpoint: "KubernetesEndpoint",
  KubernetesPullSecretFields: "KubernetesPullSecret",
  ServiceRegistryAuthFields: "ServiceRegistryAuth",
  TesseractImageInfo: "TesseractImageInfo",
  TesseractContainerInfo: "TesseractContainerInfo",
  TesseractServiceLog: "TesseractServiceLog",
  TesseractTestCaseResult: "TesseractTestCaseResult",
  ContainerSettings: "ContainerSettings",
  ContainerLogConfig: "ContainerLogConfig",
  KubernetesTolerationFields: "KubernetesToleration",
  KubernetesRequestsFields: "KubernetesRequests",
  KubernetesDisruptionBudgetFields: "KubernetesDisruptionBudget",
  KubernetesAutoscalingFields: "KubernetesAutoscaling",
  KubernetesAutoscalingMetricFields: "KubernetesAutoscalingMetric",
  KubernetesMetricObjectFields: "KubernetesMetricObject",
  KubernetesAutoscalingBehaviorFields: "KubernetesAutoscalingBehavior",
  KubernetesScalingRulesFields: "KubernetesScalingRules",
  SlurmTargetFields: "SlurmTarget",
  SlurmLoginFields: "SlurmLogin",
  SlurmLogin: "SlurmLogin",
  SlurmEndpoint: "SlurmEndpoint",
  SlurmJobRecord: "SlurmJob",
};

/**
 * Named zod schemas a definition's fields use: the TypeScript type (`z.input` of the schema) that
 * {@link TYPE_NAMES} names in the schema, or a fixed schema.
 */
const SCHEMA_TYPES: Record<string, string | Spec> = {
  containerLogConfigSchema: "ContainerLogConfig",
  containerOptionsSchema: "ContainerSettings",
  kubernetesTargetSchema: "KubernetesTargetFields",
  kubernetesPullSecretSchema: "KubernetesPullSecretFields",
  tolerationSchema: "KubernetesTolerationFields",
  requestsSchema: "KubernetesRequestsFields",
  podDisruptionBudgetSchema: "KubernetesDisruptionBudgetFields",
  autoscalingSchema: "KubernetesAutoscalingFields",
  metricSchema: "KubernetesAutoscalingMetricFields",
  metricObjectSchema: "KubernetesMetricObjectFields",
  autoscalingBehaviorSchema: "KubernetesAutoscalingBehaviorFields",
  scalingRulesSchema: "KubernetesScalingRulesFields",
  // core/v1 Affinity, passed through as given: a free-form object in the schema
  affinitySchema: { type: "object", additionalProperties: ANY },
  slurmLoginSchema: "SlurmLoginFields",
  slurmTargetSchema: "SlurmTargetFields",
  registryAuthSchema: "ServiceRegistryAuthFields",
  dockerConnectionSchema: "DockerConnection",
  PipSpec: "TaskGroupPip",
  CustomSpec: "TaskGroupCustom",
  PixiSpec: "TaskGroupPixi",
  ServerSpec: "TaskGroupServer",
  registryPushSchema: "RegistryPush",
};

/** A member as declared: an interface's property or a zod schema's field. */
type Member = ts.PropertySignature | ts.PropertyAssignment;

/** Provider configuration: `tesseract:<name>`, documented by the input it stands for. */
const CONFIG = [
  { name: "dockerHost", from: ["DockerConnection", "host"] },
  { name: "dockerContext", from: ["DockerConnection", "context"] },
  { name: "dockerCaPem", from: ["DockerConnection", "caPem"] },
  { name: "dockerCertPem", from: ["DockerConnection", "certPem"] },
  { name: "dockerKeyPem", from: ["DockerConnection", "keyPem"], secret: true },
  { name: "dockerApiVersion", from: ["DockerConnection", "apiVersion"] },
  { name: "fractalUrl", from: ["TaskGroupServer", "url"] },
  { name: "fractalEmail", from: ["TaskGroupServer", "email"] },
  { name: "fractalPassword", from: ["TaskGroupServer", "password"], secret: true },
  { name: "fractalToken", from: ["TaskGroupServer", "token"], secret: true },
] as const;

class Generator {
  readonly program: ts.Program;
  readonly checker: ts.TypeChecker;
  readonly types: Record<string, Spec> = {};

  constructor() {
    const files = [
      ...RESOURCES.map((r) => r.file),
      "provider/functions/index.ts",
      "provider/plugin/functions.ts",
      "provider/docker/connection.ts",
      "provider/fractal/schemas.ts",
    ].map((f) => join(ROOT, f));
    this.program = ts.createProgram(files, {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      strict: true,
      esModuleInterop: true,
      skipLibCheck: true,
      types: ["node"],
    });
    this.checker = this.program.getTypeChecker();
  }

  /** The declaration named `name` (interface, type alias, class or function) in the given files. */
  /** The exported declaration named `name` (a module's private helper of the same name is no match). */
  declaration(name: string): ts.Declaration {
    for (const sf of this.program.getSourceFiles()) {
      if (!sf.fileName.startsWith(join(ROOT, "provider"))) continue;
      for (const st of sf.statements) {
        if (
          (ts.isInterfaceDeclaration(st) ||
            ts.isTypeAliasDeclaration(st) ||
            ts.isClassDeclaration(st) ||
            ts.isFunctionDeclaration(st)) &&
          st.name?.text === name &&
          ts.getCombinedModifierFlags(st) & ts.ModifierFlags.Export
        )
          return st;
      }
    }
    throw new Error(`gen-schema: no declaration named ${name}`);
  }

  doc(node: ts.Node): string {
    const sym = (node as ts.NamedDeclaration).name
      ? this.checker.getSymbolAtLocation((node as ts.NamedDeclaration).name as ts.Node)
      : undefined;
    if (!sym) return "";
    return ts.displayPartsToString(sym.getDocumentationComment(this.checker)).trim();
  }

  /** Properties (own and inherited) of an interface or type alias, with their declarations. */
  members(name: string): { name: string; optional: boolean; node: Member; doc: string }[] {
    const decl = this.declaration(name);
    let type: ts.Type;
    let omit: string[] = [];
    if (ts.isTypeAliasDeclaration(decl) && ts.isTypeReferenceNode(decl.type)) {
      const ref = decl.type.typeName.getText();
      // `z.input<typeof schema>`: a definition whose fields are a zod schema's (their JSDoc and rules)
      if (ref === "z.input") return this.propertiesOf(this.checker.getTypeAtLocation(decl.name));
      // `ArgsOf<X>` (definitions/define.ts): the definition's plain X, whose fields carry the docs.
      if (ref === "ArgsOf" && decl.type.typeArguments) return this.members(decl.type.typeArguments[0].getText());
      if (ref === "Omit" && decl.type.typeArguments) {
        omit = literalStrings(decl.type.typeArguments[1]);
        return this.members(decl.type.typeArguments[0].getText()).filter((m) => !omit.includes(m.name));
      }
      return this.members(ref.replace(/^.*\./, ""));
    }
    if (ts.isTypeAliasDeclaration(decl) && ts.isMappedTypeNode(decl.type)) {
      // `{ [K in keyof X]?: pulumi.Input<X[K]> }`: the members of X.
      const constraint = decl.type.typeParameter.constraint;
      if (constraint && ts.isTypeOperatorNode(constraint)) return this.members(constraint.type.getText());
    }
    if (ts.isInterfaceDeclaration(decl) || ts.isTypeAliasDeclaration(decl)) {
      type = this.checker.getTypeAtLocation(decl.name);
    } else throw new Error(`gen-schema: ${name} is not an interface`);
    return this.propertiesOf(type);
  }

  /** The properties of a type with their declarations: a typed member, or a zod schema's field. */
  propertiesOf(type: ts.Type): { name: string; optional: boolean; node: Member; doc: string }[] {
    return this.checker.getPropertiesOfType(type).map((sym) => {
      const node = (sym.valueDeclaration ?? sym.declarations?.[0]) as Member;
      return {
        name: sym.name,
        optional: Boolean(sym.flags & ts.SymbolFlags.Optional),
        node,
        doc: ts.displayPartsToString(sym.getDocumentationComment(this.checker)).trim(),
      };
    });
  }

  /** The schema of a TypeScript type node (Inputs/Outputs unwrapped; named objects become types). */
  typeOf(node: ts.TypeNode | undefined): Spec {
    if (!node) return ANY;
    if (ts.isParenthesizedTypeNode(node)) return this.typeOf(node.type);
    if (ts.isArrayTypeNode(node)) return { type: "array", items: this.typeOf(node.elementType) };
    if (ts.isLiteralTypeNode(node)) {
      if (ts.isStringLiteral(node.literal)) return { type: "string" };
      if (ts.isNumericLiteral(node.literal)) return { type: "number" };
      if (node.literal.kind === ts.SyntaxKind.TrueKeyword || node.literal.kind === ts.SyntaxKind.FalseKeyword)
        return { type: "boolean" };
      return ANY;
    }
    switch (node.kind) {
      case ts.SyntaxKind.StringKeyword:
        return { type: "string" };
      case ts.SyntaxKind.NumberKeyword:
        return { type: "number" };
      case ts.SyntaxKind.BooleanKeyword:
        return { type: "boolean" };
    }
    if (ts.isUnionTypeNode(node)) {
      const parts = node.types
        .filter((t) => t.kind !== ts.SyntaxKind.UndefinedKeyword && !isNullLiteral(t))
        .map((t) => this.typeOf(t));
      const texts = new Set(parts.map((p) => JSON.stringify(p)));
      return texts.size === 1 ? parts[0] : ANY;
    }
    if (ts.isTypeReferenceNode(node)) {
      const name = node.typeName.getText();
      const args = node.typeArguments ?? [];
      if (/^(pulumi\.)?(Input|Output)$/.test(name)) return this.typeOf(args[0]);
      if (name === "Record") return { type: "object", additionalProperties: this.typeOf(args[1]) };
      if (name === "Array") return { type: "array", items: this.typeOf(args[0]) };
      // Resources (TesseractImage, @pulumi/docker ones typed by shape: DockerImageLike, …) are passed by name in the schema.
      if (/^(TesseractImage|docker\.\w+|Docker\w+Like)$/.test(name)) return { type: "string" };
      if (name === "ArrayEncoding" || name === 'CallSettings["encoding"]') return { type: "string" };
      const typeName = TYPE_NAMES[name];
      if (typeName) {
        if (!this.types[typeName]) this.objectType(typeName, name);
        return { $ref: `#/types/tesseract:index:${typeName}` };
      }
      return this.primitiveOf(node, name);
    }
    if (ts.isIndexedAccessTypeNode(node)) return this.primitiveOf(node, node.getText());
    return ANY;
  }

  /**
   * The schema of a zod rule (a definition's field): `z.string()`, `z.array(x)`, `z.record(k, v)`,
   * `z.union([...])`, … read from the expression; methods that only refine (`.optional()`,
   * `.min()`, `.refine()`, …) keep their receiver's type; a named schema (e.g.
   * `dockerConnectionSchema`) is the object type it stands for in {@link SCHEMA_TYPES}, another
   * constant is followed to its own rule.
   */
  zodSpec(e: ts.Expression): Spec {
    if (ts.isParenthesizedExpression(e)) return this.zodSpec(e.expression);
    if (ts.isIdentifier(e)) {
      const named = SCHEMA_TYPES[e.text];
      if (named && typeof named !== "string") return named;
      if (named) {
        const typeName = TYPE_NAMES[named];
        if (!typeName) throw new Error(`gen-schema: ${named} (for ${e.text}) has no schema name in TYPE_NAMES`);
        if (!this.types[typeName]) this.objectType(typeName, named);
        return { $ref: `#/types/tesseract:index:${typeName}` };
      }
      let sym = this.checker.getSymbolAtLocation(e);
      if (sym && sym.flags & ts.SymbolFlags.Alias) sym = this.checker.getAliasedSymbol(sym);
      const decl = sym?.valueDeclaration;
      if (decl && ts.isVariableDeclaration(decl) && decl.initializer) return this.zodSpec(decl.initializer);
      throw new Error(`gen-schema: no schema for zod rule ${e.text} (add it to SCHEMA_TYPES)`);
    }
    if (ts.isCallExpression(e) && ts.isIdentifier(e.expression)) {
      // `field(onChange, rule)` (definitions/define.ts) marks a rule; a helper's rule by its input type
      if (e.expression.text === "field") return this.zodSpec(e.arguments[1]);
      return this.specOfType(this.zodInput(e));
    }
    if (ts.isCallExpression(e) && ts.isPropertyAccessExpression(e.expression)) {
      const method = e.expression.name.text;
      const receiver = e.expression.expression;
      const args = e.arguments;
      if (!(ts.isIdentifier(receiver) && receiver.text === "z")) return this.zodSpec(receiver);
      switch (method) {
        case "string":
        case "url":
        case "email":
        case "enum":
          return { type: "string" };
        case "number":
        case "int":
          return { type: "number" };
        case "boolean":
          return { type: "boolean" };
        case "literal": {
          const v = args[0];
          if (ts.isStringLiteral(v)) return { type: "string" };
          if (ts.isNumericLiteral(v)) return { type: "number" };
          return { type: "boolean" };
        }
        case "array":
          return { type: "array", items: this.zodSpec(args[0]) };
        case "record":
        case "partialRecord":
          return { type: "object", additionalProperties: this.zodSpec(args[1]) };
        case "union": {
          const list = args[0];
          if (!ts.isArrayLiteralExpression(list)) return ANY;
          const parts = list.elements.map((x) => this.zodSpec(x));
          const texts = new Set(parts.map((p) => JSON.stringify(p)));
          return texts.size === 1 ? parts[0] : ANY;
        }
        case "unknown":
        case "any":
        // an object without a schema type of its own (as an inline type literal was)
        case "object":
        case "strictObject":
          return ANY;
        default:
          // another kind of string or number rule (`z.ipv4()`, …): by its input type
          return this.specOfType(this.zodInput(e));
      }
    }
    throw new Error(`gen-schema: no schema for zod rule ${e.getText()}`);
  }

  /** The input type of a zod rule (its `_zod.input`). */
  zodInput(e: ts.Expression): ts.Type {
    const rule = this.checker.getTypeAtLocation(e);
    const internals = rule.getProperty("_zod");
    const input = internals && this.checker.getTypeOfSymbol(internals).getProperty("input");
    if (!input) throw new Error(`gen-schema: ${e.getText()} is not a zod rule`);
    return this.checker.getTypeOfSymbol(input);
  }

  /** The schema of a plain type without a name of its own: primitives, arrays and maps of them. */
  specOfType(type: ts.Type): Spec {
    const parts = (type.isUnion() ? type.types : [type]).filter(
      (t) => !(t.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null)),
    );
    if (parts.length && parts.every((t) => t.flags & ts.TypeFlags.StringLike)) return { type: "string" };
    if (parts.length && parts.every((t) => t.flags & ts.TypeFlags.NumberLike)) return { type: "number" };
    if (parts.length && parts.every((t) => t.flags & ts.TypeFlags.BooleanLike)) return { type: "boolean" };
    if (parts.length !== 1) return ANY;
    const [t] = parts;
    if (this.checker.isArrayType(t)) {
      const [item] = this.checker.getTypeArguments(t as ts.TypeReference);
      return { type: "array", items: this.specOfType(item) };
    }
    const index = this.checker.getIndexInfoOfType(t, ts.IndexKind.String);
    if (index && !t.getProperties().length)
      return { type: "object", additionalProperties: this.specOfType(index.type) };
    return ANY;
  }

  /** Aliases of primitives and literal unions (e.g. `TaskType`) by their resolved type. */
  primitiveOf(node: ts.TypeNode, name: string): Spec {
    const type = this.checker.getTypeFromTypeNode(node);
    const parts = (type.isUnion() ? type.types : [type]).filter(
      (t) => !(t.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null)),
    );
    if (parts.every((t) => t.flags & ts.TypeFlags.StringLike)) return { type: "string" };
    if (parts.every((t) => t.flags & ts.TypeFlags.NumberLike)) return { type: "number" };
    if (parts.every((t) => t.flags & ts.TypeFlags.BooleanLike)) return { type: "boolean" };
    throw new Error(`gen-schema: no schema for type ${name} (add it to TYPE_NAMES)`);
  }

  objectType(typeName: string, tsName: string): void {
    this.types[typeName] = {}; // placeholder against recursion
    const decl = this.declaration(tsName);
    const { properties, required } = this.properties(this.members(tsName));
    this.types[typeName] = {
      type: "object",
      description: this.doc(decl),
      properties,
      ...(required.length ? { required } : {}),
    };
  }

  properties(members: ReturnType<Generator["members"]>, secret: readonly string[] = []) {
    const properties: Record<string, Spec> = {};
    const required: string[] = [];
    for (const m of members) {
      const zodField = ts.isPropertyAssignment(m.node);
      properties[m.name] = {
        ...(ts.isPropertyAssignment(m.node) ? this.zodSpec(m.node.initializer) : this.typeOf(m.node.type)),
        description: m.doc,
        ...(secret.includes(m.name) ? { secret: true } : {}),
      };
      if (!m.optional && (zodField || !typeAllowsUndefined((m.node as ts.PropertySignature).type)))
        required.push(m.name);
    }
    return { properties, required };
  }

  /** `declare readonly x: pulumi.Output<T>` members of a resource class. */
  classOutputs(cls: string): ReturnType<Generator["members"]> {
    const decl = this.declaration(cls) as ts.ClassDeclaration;
    return decl.members.filter(ts.isPropertyDeclaration).map((p) => ({
      name: p.name.getText(),
      optional: false,
      node: p as unknown as ts.PropertySignature,
      doc: this.doc(p),
    }));
  }

  generate(): Spec {
    const resources: Record<string, Spec> = {};
    for (const r of RESOURCES) {
      const inputs = this.members(r.args);
      const ins = this.properties(inputs, r.secret);
      const outputs = [...this.members(r.outputs), ...this.classOutputs(r.cls)];
      const echoed = inputs.filter(
        (m) =>
          (r.stateInputs === "all" || (r.stateInputs as readonly string[]).includes(m.name)) &&
          !outputs.some((o) => o.name === m.name),
      );
      const outs = this.properties([...outputs, ...echoed.map((m) => ({ ...m, optional: true }))], r.secret);
      for (const k of r.replaceOnChanges) {
        if (!outs.properties[k]) throw new Error(`gen-schema: ${r.token} replaces on ${k}, which is not a property`);
        outs.properties[k] = { ...outs.properties[k], replaceOnChanges: true };
      }
      resources[r.token] = {
        description: this.doc(this.declaration(r.cls)),
        properties: outs.properties,
        required: outs.required,
        inputProperties: ins.properties,
        requiredInputs: ins.required,
      };
    }
    const functions: Record<string, Spec> = {};
    for (const f of PLUGIN_FUNCTIONS) {
      const args = this.members(f.args).filter((m) => !f.omit?.includes(m.name));
      const ins = this.properties(args, f.secret);
      const outs = this.properties(this.members(f.result));
      functions[f.token] = {
        description: this.doc(this.declaration(f.fn)),
        inputs: { properties: ins.properties, required: ins.required },
        outputs: { properties: outs.properties, required: outs.required },
      };
    }
    const variables: Record<string, Spec> = {};
    for (const c of CONFIG) {
      const [tsName, prop] = c.from;
      const m = this.members(tsName).find((x) => x.name === prop);
      if (!m) throw new Error(`gen-schema: ${tsName}.${prop} is gone`);
      const what = tsName === "DockerConnection" ? "`docker` input" : "`server` input of TaskGroup";
      variables[c.name] = {
        type: "string",
        description: `Default for the ${what}'s \`${prop}\` when a resource does not set it: ${m.doc}`,
        ...("secret" in c && c.secret ? { secret: true } : {}),
      };
    }
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      version: string;
      description: string;
      license: string;
    };
    return {
      name: "tesseract",
      displayName: "Tesseract",
      version: pkg.version,
      description: pkg.description,
      license: pkg.license,
      keywords: ["pulumi", "tesseract", "fractal", "docker", "category/utility"],
      repository: "https://github.com/pulumi-tesseract/pulumi-tesseract",
      config: { variables },
      provider: {
        description: "The tesseract provider: Docker engine and fractal-server defaults for its resources.",
        inputProperties: variables,
      },
      types: Object.fromEntries(Object.entries(this.types).map(([k, v]) => [`tesseract:index:${k}`, v])),
      resources,
      functions,
      language: {
        python: {
          packageName: "pulumi_tesseract",
          requires: { pulumi: ">=3.0.0,<4.0.0" },
          respectSchemaVersion: true,
        },
        nodejs: { packageName: "pulumi-tesseract" },
      },
    };
  }
}

function literalStrings(node: ts.TypeNode): string[] {
  if (ts.isLiteralTypeNode(node) && ts.isStringLiteral(node.literal)) return [node.literal.text];
  if (ts.isUnionTypeNode(node)) return node.types.flatMap(literalStrings);
  return [];
}
function isNullLiteral(node: ts.TypeNode): boolean {
  return ts.isLiteralTypeNode(node) && node.literal.kind === ts.SyntaxKind.NullKeyword;
}
function typeAllowsUndefined(node: ts.TypeNode | undefined): boolean {
  if (!node) return true;
  if (node.kind === ts.SyntaxKind.UndefinedKeyword) return true;
  if (ts.isUnionTypeNode(node)) return node.types.some(typeAllowsUndefined);
  if (ts.isTypeReferenceNode(node) && /^(pulumi\.)?(Input|Output)$/.test(node.typeName.getText()))
    return typeAllowsUndefined(node.typeArguments?.[0]);
  return false;
}

/** The package schema, generated from the TypeScript sources. */
export function generateSchema(): Spec {
  return new Generator().generate();
}

/** The generated module's text (before formatting). */
export function renderModule(schema: Spec): string {
  return [
    "// Generated by scripts/plugin/gen-schema.ts from the JSDoc'd TypeScript API. Do not edit:",
    "// run `npx tsx scripts/plugin/gen-schema.ts` after changing an Args interface or an output.",
    "",
    `export const SCHEMA = ${JSON.stringify(schema, null, 2)};`,
    "",
  ].join("\n");
}

if (require.main === module) {
  const text = renderModule(generateSchema());
  const tmp = join(ROOT, "provider/plugin/schema.generated.tmp.ts");
  writeFileSync(tmp, text);
  execFileSync(join(ROOT, "node_modules/.bin/biome"), ["format", "--write", tmp], { stdio: "ignore" });
  const formatted = readFileSync(tmp, "utf8");
  execFileSync("rm", ["-f", tmp]);
  if (process.argv.includes("--check")) {
    const current = readFileSync(GENERATED_FILE, "utf8");
    if (current !== formatted) {
      console.error(`${GENERATED_FILE} is stale: run npx tsx scripts/plugin/gen-schema.ts`);
      process.exit(1);
    }
  } else {
    writeFileSync(GENERATED_FILE, formatted);
    console.log(`wrote ${GENERATED_FILE}`);
  }
}
