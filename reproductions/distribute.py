"""``--strategy``: the same targets on several devices or machines through tf.distribute.

- ``default``: one device (TensorFlow's default strategy).
- ``mirrored``: ``MirroredStrategy`` over all local GPUs, or, on a machine without GPUs, over
  ``cpu_devices`` logical CPU devices (set up before TensorFlow starts; how the tests run it here).
- ``multiworker``: ``MultiWorkerMirroredStrategy`` from ``TF_CONFIG``; every worker runs the same
  command, only the chief writes results.
- ``tpu``: ``TPUStrategy`` from ``TPUClusterResolver`` (``TPU_NAME``); untested here (no TPU).

The global batch is always the recipe's ``batch_size``: each step's batch is split across the
replicas and the gradients summed, so the updates are the single-device ones and the learning
rate needs no scaling (recorded as such in run.json). Keras 3's ``fit`` cannot run under
``MultiWorkerMirroredStrategy`` (keras-team/keras#20585: it reduces a per-replica batch while
building, then fails reducing metrics), so multiworker training uses :func:`train_step`, a
``strategy.run`` step of our own with the same loss, updates and callbacks.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import time

from keras_lecture_zoo.reproductions.settings import STRATEGIES

LR_RULE = (
    "none: the global batch is the recipe's batch_size, split across the replicas with the gradients summed, "
    "so every update is the single-device one and the recipe's learning rate applies unchanged"
)


class StrategyError(RuntimeError):
    """The requested strategy cannot be set up here (no TPU, no TF_CONFIG, TensorFlow already started)."""


@dataclasses.dataclass
class Distribution:
    """The chosen strategy and this process's role in it."""

    name: str
    strategy: object
    replicas: int
    devices: list
    chief: bool = True
    worker_index: int = 0
    workers: int = 1

    @property
    def custom_loop(self):
        """Train with :func:`train_step` instead of ``fit`` (Keras 3 ``fit`` fails under multiworker)."""
        return self.name == "multiworker"

    def record(self, batch_size=None):
        """JSON-able description for run.json."""
        out = {
            "strategy": self.name,
            "replicas": self.replicas,
            "devices": self.devices,
            "workers": self.workers,
            "learning_rate_scaling": LR_RULE,
            "applies_to": "networks the runner trains (fit targets, and custom targets' train_networks); a target's "
            "own loops (scikit-learn, GradientTape, direct fit calls) run on one device",
        }
        if batch_size:
            out.update(global_batch_size=batch_size, per_replica_batch_size=batch_size / self.replicas)
        return out


ONE_DEVICE = Distribution("default", None, 1, ["default device"])  # no strategy: what a run records


def tf_config():
    """The parsed ``TF_CONFIG`` (or None): valid JSON naming this task inside its cluster, with
    'host:port' addresses; anything else raises ValueError with one line saying what is wrong."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return None
    example = (
        'TF_CONFIG must be JSON like {"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
        '"task": {"type": "worker", "index": 0}}'
    )
    try:
        cfg = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"TF_CONFIG is not valid JSON ({exc}); {example}") from None
    if not isinstance(cfg, dict) or not isinstance(cfg.get("cluster"), dict) or not isinstance(cfg.get("task"), dict):
        raise ValueError(f"TF_CONFIG needs a 'cluster' object and a 'task' object; {example}")
    cluster, task = cfg["cluster"], cfg["task"]
    if not cluster:
        raise ValueError(f"TF_CONFIG's cluster must name at least one job, got {cluster!r}.")
    for job, addresses in cluster.items():
        if not isinstance(addresses, list) or not addresses:
            raise ValueError(f"TF_CONFIG cluster job {job!r} must be a non-empty list of 'host:port'; {example}")
        for address in addresses:
            host, _, port = str(address).rpartition(":")
            if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
                raise ValueError(
                    f"TF_CONFIG address {address!r} in job {job!r} is not 'host:port' with a port from 1 to 65535"
                )
    kind, index = task.get("type"), task.get("index")
    if kind not in cluster:
        raise ValueError(f"TF_CONFIG task type {kind!r} is not a job of the cluster ({', '.join(map(repr, cluster))})")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(cluster[kind]):
        raise ValueError(
            f"TF_CONFIG task index {index!r} is out of range: job {kind!r} has "
            f"{len(cluster[kind])} task(s), indices 0..{len(cluster[kind]) - 1}"
        )
    return cfg


CONNECT_TIMEOUT_ENV = "ZOO_CONNECT_TIMEOUT"


def connect_timeout():
    """Seconds a multiworker task waits for its peers (``$ZOO_CONNECT_TIMEOUT``, default 120)."""
    raw = os.environ.get(CONNECT_TIMEOUT_ENV, "120")
    try:
        value = float(raw)
        if not value > 0:
            raise ValueError
    except ValueError:
        raise StrategyError(f"${CONNECT_TIMEOUT_ENV} must be a positive number of seconds, got {raw!r}") from None
    return value


def _split(address):
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def rendezvous(cfg, timeout):
    """Before TensorFlow's strategy (which waits for its peers in C++, uninterruptibly and for many
    minutes), meet every peer over plain TCP on this task's own port: listen there, connect to each
    peer's, and go on once every peer has both answered and called. Raises :class:`StrategyError`
    naming the peers that did not, after ``timeout`` seconds."""
    tasks = [
        (job, i, addr)
        for job, addrs in cfg["cluster"].items()
        if job in ("chief", "worker")
        for i, addr in enumerate(addrs)
    ]
    me = (cfg["task"]["type"], int(cfg["task"]["index"]))
    own = next((addr for job, i, addr in tasks if (job, i) == me), None)
    peers = {addr for job, i, addr in tasks if (job, i) != me}
    if own is None or not peers:
        return
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        server.bind(("", _split(own)[1]))
    except OSError as exc:
        server.close()
        raise StrategyError(
            f"this task's address {own} cannot be listened on ({exc.strerror}); is another process using the port?"
        ) from None
    server.listen(len(peers) + 4)
    server.settimeout(0.2)
    reached, called, deadline = set(), 0, time.monotonic() + timeout
    try:
        while len(reached) < len(peers) or called < len(peers):
            if time.monotonic() > deadline:
                missing = sorted(peers - reached) or ["(a peer did not connect back)"]
                raise StrategyError(
                    f"--strategy multiworker: could not reach {', '.join(missing)} within {timeout:g} s "
                    f"(${CONNECT_TIMEOUT_ENV}); start every task of TF_CONFIG's cluster with the same command, "
                    "and check the addresses and firewalls"
                )
            for addr in sorted(peers - reached):
                try:
                    with socket.create_connection(_split(addr), timeout=1.0):
                        reached.add(addr)
                except OSError:
                    pass
            try:
                conn, _ = server.accept()
                conn.close()
                called += 1
            except (socket.timeout, BlockingIOError):
                pass
    finally:
        server.close()


def is_chief(cfg):
    """The chief writes results: the task of type 'chief', or worker 0 when the cluster has no chief."""
    if cfg is None:
        return True
    task = cfg["task"]
    if "chief" in cfg["cluster"]:
        return task["type"] == "chief"
    return task["type"] == "worker" and int(task["index"]) == 0


def setup(name="default", cpu_devices=2):
    """Create the strategy. Call before anything else touches TensorFlow's devices (logical CPU
    devices for ``mirrored`` can only be configured before the runtime starts)."""
    if name not in STRATEGIES:
        raise ValueError(f"`strategy` must be one of {list(STRATEGIES)}, got {name!r}.")
    if not isinstance(cpu_devices, int) or isinstance(cpu_devices, bool) or cpu_devices < 1:
        raise ValueError(f"`cpu_devices` must be an integer >= 1, got {cpu_devices!r}.")
    import keras

    backend = keras.backend.backend()
    if backend != "tensorflow":
        if name != "default":
            raise StrategyError(
                f"--strategy {name} is a tf.distribute strategy: it needs the TensorFlow backend "
                f"(--backend tensorflow), not {backend}."
            )
        return Distribution(name, None, 1, ["default device"])
    import tensorflow as tf

    if name == "default":
        strategy = tf.distribute.get_strategy()
        return Distribution(name, strategy, 1, ["default device"])
    if name == "mirrored":
        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            strategy = tf.distribute.MirroredStrategy()
        else:
            cpu = tf.config.list_physical_devices("CPU")[0]
            try:
                tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * cpu_devices)
            except RuntimeError as exc:
                raise StrategyError(
                    "--strategy mirrored on CPUs must split the CPU into logical devices before "
                    f"TensorFlow starts; it has already started in this process ({exc})."
                ) from None
            names = [d.name for d in tf.config.list_logical_devices("CPU")]
            strategy = tf.distribute.MirroredStrategy(names)
        return Distribution(name, strategy, strategy.num_replicas_in_sync, list(strategy.extended.worker_devices))
    if name == "multiworker":
        cfg = tf_config()
        if cfg is None:
            raise StrategyError(
                "--strategy multiworker needs TF_CONFIG (the cluster's workers and this task's index); "
                "see the README's 'Several GPUs or machines' section."
            )
        rendezvous(cfg, connect_timeout())
        # TensorFlow's strategy blocks in C++ while it waits for its peers; with the default actions
        # Ctrl-C and SIGTERM end the process there (a Python handler would never get to run)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the strategy installs a handler that ignores it
        workers = sum(len(v) for k, v in cfg["cluster"].items() if k in ("chief", "worker"))
        return Distribution(
            name,
            strategy,
            strategy.num_replicas_in_sync,
            list(strategy.extended.worker_devices),
            chief=is_chief(cfg),
            worker_index=int(cfg["task"]["index"]),
            workers=workers,
        )
    try:  # tpu
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as exc:
        raise StrategyError(f"--strategy tpu found no TPU (set TPU_NAME, or run on a TPU VM): {exc}") from None
    strategy = tf.distribute.TPUStrategy(resolver)
    return Distribution(name, strategy, strategy.num_replicas_in_sync, list(strategy.extended.worker_devices))


def train_step(model, loss, strategy, accuracy=None):
    """A compiled step ``(x, y) -> (mean loss, correct predictions)`` over the whole global batch.

    Every replica gets the global batch and takes every n-th example (any batch size works); its
    loss is the sum over its examples divided by the global batch size, so the summed gradients
    (Keras' optimizer all-reduces them) equal the single-device mean-loss gradient. ``accuracy``:
    'sparse' (argmax vs integer labels), 'binary' (> 0.5) or None.
    """
    import keras
    import tensorflow as tf

    loss_fn = keras.losses.get(loss) if isinstance(loss, str) else loss
    config = keras.losses.serialize(loss_fn) if isinstance(loss_fn, keras.losses.Loss) else None
    if config is not None:  # per-example values, reduced here
        loss_fn = keras.losses.deserialize(config)
        loss_fn.reduction = None

    def correct(y, pred):
        if accuracy == "sparse":
            return tf.reduce_sum(
                tf.cast(
                    tf.equal(tf.cast(tf.argmax(pred, -1), tf.int64), tf.reshape(tf.cast(y, tf.int64), [-1])), tf.float32
                )
            )
        if accuracy == "binary":
            return tf.reduce_sum(
                tf.cast(tf.equal(tf.cast(pred > 0.5, tf.float32), tf.cast(y > 0.5, tf.float32)), tf.float32)
            )
        return tf.constant(0.0)

    @tf.function
    def step(x, y):
        def replica(x, y):
            ctx = tf.distribute.get_replica_context()
            rid, n = ctx.replica_id_in_sync_group, ctx.num_replicas_in_sync
            xl, yl = x[rid::n], y[rid::n]
            global_size = tf.cast(tf.shape(x)[0], tf.float32)
            with tf.GradientTape() as tape:
                pred = model(xl, training=True)
                per_example = tf.cast(tf.reshape(loss_fn(yl, pred), [-1]), tf.float32)
                value = tf.reduce_sum(per_example) / global_size
                if model.losses:  # penalties count once over all replicas
                    value += tf.add_n([tf.cast(p, tf.float32) for p in model.losses]) / tf.cast(n, tf.float32)
            grads = tape.gradient(value, model.trainable_variables)
            model.optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return value, correct(yl, pred)

        value, hits = strategy.run(replica, args=(x, y))
        return strategy.reduce("SUM", value, axis=None), strategy.reduce("SUM", hits, axis=None)

    return step
