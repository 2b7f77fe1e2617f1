"""The root stack (../../index.ts) in Python on the pulumi_tesseract SDK generated from the plugin's
schema: builds the four example Tesseracts, serves them, calls them from the stack and collects a
Fractal task group locally. Used by __main__.py (`pulumi up`) and automation.py (Automation API)."""

import glob
import os

import pulumi
import pulumi_tesseract as tesseract

HERE = os.path.dirname(os.path.abspath(__file__))
TESSERACTS = os.path.join(HERE, "..", "tesseracts")


def host_ca_certificates():
    """PEM of the host's extra CAs (e.g. a TLS-intercepting proxy's), or None: what builds trust."""
    pems = [open(p, encoding="utf-8").read() for p in sorted(glob.glob("/usr/local/share/ca-certificates/*.crt"))]
    return "\n".join(pems) if pems else None


def program() -> None:
    config = pulumi.Config()
    build = {
        "ca_certificates": host_ca_certificates(),
        "build_network": config.get("buildNetwork") or "host",
    }

    # ---- images ---------------------------------------------------------------------------------
    images = {
        name: tesseract.TesseractImage(name, src_dir=os.path.join(TESSERACTS, name), **build)
        for name in ["hello", "vectoradd", "packaged", "calculus"]
    }

    # ---- services -------------------------------------------------------------------------------
    hello = tesseract.TesseractService("hello", image=images["hello"].image_name)
    packaged = tesseract.TesseractService("packaged", image=images["packaged"].image_name)
    vectoradd = tesseract.TesseractService("vectoradd", image=images["vectoradd"].image_name)
    calculus = tesseract.TesseractService(
        "calculus", image=images["calculus"].image_name, replicas=config.get_int("calculusReplicas") or 2
    )

    # ---- calls from the stack (made once the urls are known) -----------------------------------
    a, b = [1, 2, 3], [10, 20, 30]
    vectoradd_result = tesseract.apply_output(url=vectoradd.url, inputs={"a": a, "b": b, "s": 2})
    calculus_jacobian = tesseract.jacobian_output(
        url=calculus.url, inputs={"a": a, "b": b, "s": 0.5}, jac_inputs=["a", "s"], jac_outputs=["result", "norm"]
    )
    calculus_vjp = tesseract.vector_jacobian_product_output(
        url=calculus.url,
        inputs={"a": a, "b": b, "s": 0.5},
        vjp_inputs=["a", "b"],
        vjp_outputs=["result"],
        cotangent_vector={"result": [1, 1, 1]},
    )
    greeting = tesseract.apply_output(url=hello.url, inputs={"name": "pulumi"})

    # ---- Fractal --------------------------------------------------------------------------------
    tasks = tesseract.TaskGroup(
        "fractal-mock-tasks",
        pip=tesseract.TaskGroupPipArgs(package="testing-tasks-mock", package_version="0.1.5"),
        backend="local",
    )

    pulumi.export("imageNames", pulumi.Output.all(*[i.image_name for i in images.values()]))
    pulumi.export(
        "urls", {"hello": hello.url, "packaged": packaged.url, "vectoradd": vectoradd.url, "calculus": calculus.urls}
    )
    pulumi.export("greeting", greeting.outputs)
    pulumi.export("vectoraddOutputs", vectoradd_result.outputs)
    pulumi.export("jacobian", calculus_jacobian.jacobian)
    pulumi.export("vjp", calculus_vjp.vjp)
    pulumi.export("fractalTaskNames", tasks.tasks.apply(lambda ts: [f"{t.name} ({t.type})" for t in ts]))
    pulumi.export("fractalVenv", tasks.venv_path)
