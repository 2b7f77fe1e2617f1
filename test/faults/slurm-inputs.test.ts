/**
 * Hostile `slurm` inputs (the Slurm serve target's schema, provider/serve/slurm/inputs.ts): values
 * that would inject ssh options, shell commands or #SBATCH lines, options the target sets itself,
 * malformed walltimes and sizes. Each must be refused at check, naming `slurm.<field>` and the fix,
 * and no failure may repeat the private key. No cluster needed.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { checkSlurmTarget } from "../../provider/serve/slurm/inputs";
import { containerImageRef } from "../../provider/serve/slurm/job-script";
import { findSecrets, Report } from "../helpers/faults/report";

const report = new Report("slurm-inputs");
const KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nhostile-test-key-material-7f3a9c\n-----END OPENSSH PRIVATE KEY-----\n";
const LOGIN = { host: "login.example.org", privateKey: KEY };

const CASES: [string, Record<string, unknown>, string][] = [
  ["ssh option as host", { login: { host: "-oProxyCommand=touch /tmp/pwned" } }, "slurm.login.host"],
  ["shell in host", { login: { host: "login;id" } }, "slurm.login.host"],
  ["shell in user", { login: { ...LOGIN, user: "alice$(id)" } }, "slurm.login.user"],
  [
    "key that is no key (secret)",
    { login: { host: "h", privateKey: "hunter2-secret-value" } },
    "slurm.login.privateKey",
  ],
  ["host key checking off", { login: { ...LOGIN, hostKeyChecking: "off" } }, "slurm.login.hostKeyChecking"],
  ["shell in partition", { partition: "debug$(reboot)" }, "slurm.partition"],
  ["shell in account", { account: "a b" }, "slurm.account"],
  ["walltime in hours", { walltime: "2h" }, "slurm.walltime"],
  ["walltime 0", { walltime: "0" }, "slurm.walltime"],
  ["walltime minutes over 59", { walltime: "1:75:00" }, "slurm.walltime"],
  ["walltime with newline", { walltime: "10\n#SBATCH --uid=0" }, "slurm.walltime"],
  ["memory in GB", { memory: "4GB" }, "slurm.memory"],
  ["negative gpus", { gpus: -2 }, "slurm.gpus"],
  ["fractional cpus", { cpusPerTask: 1.5 }, "slurm.cpusPerTask"],
  ["replicas 1000", { replicas: 1000 }, "slurm.replicas"],
  ["shell in node name", { nodes: ["node1;id"] }, "slurm.nodes[0]"],
  ["backticks in constraint", { constraint: "`id`" }, "slurm.constraint"],
  ["sbatch --time", { sbatchOptions: ["--time=5"] }, "slurm.sbatchOptions[0]"],
  ["sbatch -o", { sbatchOptions: ["-o /etc/passwd"] }, "slurm.sbatchOptions[0]"],
  ["sbatch --output", { sbatchOptions: ["--output=/etc/cron.d/x"] }, "slurm.sbatchOptions[0]"],
  ["sbatch --wrap", { sbatchOptions: ["--wrap=rm -rf ~"] }, "slurm.sbatchOptions[0]"],
  ["sbatch newline", { sbatchOptions: ["--qos=normal\nrm -rf ~"] }, "slurm.sbatchOptions[0]"],
  ["sbatch value with quote", { sbatchOptions: ["--comment='x'"] }, "slurm.sbatchOptions[0]"],
  ["relative workDir", { workDir: "../../etc" }, "slurm.workDir"],
  ["shell in workDir", { workDir: "/scratch/$(id)" }, "slurm.workDir"],
  ["shell in python", { python: "python3; id" }, "slurm.python"],
  ["runtime option with shell", { mode: "podman", runtimeOptions: ["--root=/x;id"] }, "slurm.runtimeOptions[0]"],
  ["setup with newline", { setup: ["module load x\nid"] }, "slurm.setup[0]"],
  ["unknown mode", { mode: "docker" }, "slurm.mode"],
  ["unknown key", { sudo: true }, "slurm"],
];

describe("hostile slurm inputs are refused at check, explained, with no secret", () => {
  after(() => report.flush());

  for (const [name, raw, property] of CASES) {
    test(name, () => {
      report.add("inputsTried");
      const t0 = Date.now();
      const r = checkSlurmTarget({ login: LOGIN, ...raw });
      const failures = r.ok ? [] : r.failures;
      const text = JSON.stringify(failures);
      const leaked = findSecrets(text, [KEY, "hostile-test-key-material-7f3a9c", "hunter2-secret-value"]);
      if (!r.ok) report.add("inputsRefused");
      const explained = failures.some(
        (f) => f.property === property && /fix|must|is set by|needs|write it/.test(f.reason),
      );
      if (explained) report.add("inputsExplained");
      if (leaked.length) report.add("secretsFound", leaked.length);
      const ok = !r.ok && explained && leaked.length === 0;
      report.data.faults.push({
        fault: `hostile/slurm-input/${name}`,
        result: ok ? "pass" : "fail",
        seconds: (Date.now() - t0) / 1000,
        detail: leaked.length
          ? `LEAKED ${leaked.join(", ")}`
          : r.ok
            ? "accepted"
            : explained
              ? "refused, explained"
              : `refused: ${text}`,
      });
      report.flush();
      assert.equal(r.ok, false, `${name} accepted`);
      assert.ok(explained, `${name}: ${text}`);
      assert.deepEqual(leaked, []);
    });
  }

  test("image references that are not by digest are refused for container modes", () => {
    for (const image of ["hello:latest", "docker-archive:/x.tar;id", "hello@sha256:short", "/etc/passwd"]) {
      report.add("inputsTried");
      assert.throws(
        () => containerImageRef("podman", image),
        (e: Error & { property?: string; hint?: string }) => {
          assert.equal(e.property, "image");
          assert.ok(e.hint);
          return true;
        },
      );
      report.add("inputsRefused");
      report.add("inputsExplained");
    }
    report.data.faults.push({
      fault: "hostile/slurm-input/image not by digest",
      result: "pass",
      seconds: 0,
      detail: "refused, explained",
    });
    report.flush();
  });
});
