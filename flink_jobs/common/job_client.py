"""The jobs' Flink client, kept warm: one process that submits every job the platform deploys.

A job is a PyFlink program (``runner.run``). Run through `flink run -py`, each submission
started a JVM and a Python process and planned the job in a cold JVM: 35-100 s on two cores.
This process starts the JVM once and then, per request, does what ``runner.run`` does in the
release's own code: parse the job's arguments, build its statement set and execute it against
the session cluster. The statements go in, a running job's id comes out.

Operator uids are ``<node id>_<operator>`` (``table.exec.uid.generation: ALWAYS``) and node ids
come from one counter per JVM, which a fresh `flink run` JVM starts at 0. Each request resets it
first, so a job gets the uids it would get from a fresh JVM and restores savepoints of either.
Requests are served one at a time for the same reason.

Run as a script (``python -P job_client.py SOCKET [WARM_UP_JSON]``): it imports no project
module itself, because each request imports the release's own ``flink_jobs``/``streamlab``
modules afresh. It is Python because the jobs are PyFlink programs; it only plans and submits
them, and the jobs it submits run no Python.
"""

from __future__ import annotations

import importlib
import json
import os
import socketserver
import sys
import time
import traceback
from pathlib import Path

from pyflink.java_gateway import get_gateway

PROJECT_PACKAGES = ("flink_jobs", "streamlab", "validation")
NODE_IDS = "org.apache.flink.table.planner.plan.nodes.exec.ExecNodeContext"
WARM_UP_S = 30.0  # past this, submitters stop waiting for the warm-up: the rest warms on real jobs


def _forget_project_modules() -> None:
    for name in [name for name in sys.modules if name.split(".")[0] in PROJECT_PACKAGES]:
        del sys.modules[name]
    importlib.invalidate_caches()


def _reset_node_ids(env) -> None:
    """``ExecNodeContext.resetIdCounter()``, through the planner's own class loader (the planner
    is loaded in a class loader of its own, out of py4j's sight)."""
    gateway = get_gateway()
    loader = env._j_tenv.getPlanner().getClass().getClassLoader()
    method = loader.loadClass(NODE_IDS).getMethod("resetIdCounter", gateway.new_array(gateway.jvm.java.lang.Class, 0))
    method.invoke(None, gateway.new_array(gateway.jvm.java.lang.Object, 0))


def _cluster_config() -> dict[str, str]:
    """The cluster's configuration as the `flink` CLI reads it (``$FLINK_CONF_DIR``): under
    `flink run` it is the job's environment (checkpointing, state backend, parallelism); a job's
    own options win over it, and the request's over both, as `flink run -D` would."""
    configuration = get_gateway().jvm.org.apache.flink.configuration.GlobalConfiguration
    return dict(configuration.loadConfiguration(os.environ["FLINK_CONF_DIR"]).toMap())


def _statements(request: dict):
    """The job's statement set, built by the release's own code as ``runner.run`` builds it, in a
    table environment with the cluster's configuration under the job's and the request's options."""
    runner = importlib.import_module("flink_jobs.common.runner")
    job = importlib.import_module(request["script"].removesuffix(".py").replace("/", "."))
    args = runner.parse_args(request["name"], request["argv"])
    env = runner.table_env(args)
    _reset_node_ids(env)
    config = env.get_config()
    own = set(config.get_configuration().to_dict())
    for name, value in {**_cluster_config(), **request["options"]}.items():
        if name not in own or name in request["options"]:
            config.set(name, value)
    return job.build(env, args)


def _in_release(root: str, work):
    """``work()`` with the release at ``root`` first on the path and its modules imported afresh."""
    _forget_project_modules()
    sys.path.insert(0, root)
    try:
        return work()
    finally:
        sys.path.remove(root)
        _forget_project_modules()


def submit(request: dict) -> str:
    """Build and execute the job ``request`` names from its release; its Flink job id."""
    result = _in_release(request["root"], lambda: _statements(request).execute())
    return result._j_table_result.getJobClient().get().getJobID().toString()


def warm_up(requests: list[dict]) -> None:
    """Plan each job without submitting it, so the JIT compiler has seen the planner's hot code
    before the first real submission (cold, the first plan took 10-18 s, a warm one 1-3 s)."""
    deadline = time.monotonic() + WARM_UP_S
    for request in requests:
        if time.monotonic() > deadline:
            break
        started = time.monotonic()
        try:
            _in_release(request["root"], lambda request=request: _statements(request).explain())
            print(f"warmed up on {request['name']} ({time.monotonic() - started:.1f}s)", flush=True)
        except Exception as exc:  # noqa: BLE001 - a job that cannot be planned is the deploy's error, not ours
            print(f"warm-up on {request['name']} failed: {root_cause(exc)}", flush=True)


def root_cause(exc: BaseException) -> str:
    """The innermost Java cause of a failed submission (the planner's reason), else Python's."""
    java = getattr(exc, "java_exception", None)
    if java is not None:
        while java.getCause() is not None and java.getCause() is not java:
            java = java.getCause()
        return f"{java.getClass().getName()}: {java.getMessage()}"
    return f"{type(exc).__name__}: {exc}"


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        started = time.monotonic()
        try:
            request = json.loads(self.rfile.readline())
            answer = {"job_id": submit(request)}
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - the caller's answer (argparse exits): the client lives on
            traceback.print_exc()
            answer = {"error": root_cause(exc)}
        answer["seconds"] = round(time.monotonic() - started, 2)
        print(json.dumps({"job": request.get("name") if "request" in locals() else None, **answer}), flush=True)
        self.wfile.write(json.dumps(answer).encode() + b"\n")


def main(socket_path: str, warm_up_file: str | None = None) -> None:
    """Serve on ``socket_path`` once warmed up on the requests in ``warm_up_file`` (JSON), if any:
    submitters wait for the socket, so none meets a cold planner."""
    path = Path(socket_path)
    path.unlink(missing_ok=True)
    if warm_up_file:
        warm_up(json.loads(Path(warm_up_file).read_text()))
    os.umask(0o077)  # the socket is this user's alone: a request runs a release's code
    with socketserver.UnixStreamServer(str(path), _Handler) as server:
        print(f"job client ready on {path}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main(*sys.argv[1:3])
