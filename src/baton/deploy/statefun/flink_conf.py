"""flink-conf.yaml for a StateFun 3.3 cluster (statefun-reference §3.8, §3.11, §7.1, §7.2).

The official image enables RocksDB but no checkpoint interval, and without checkpoints nothing
is exactly-once; the values here are the image's and the Helm chart's, with checkpoints on.
"""

from __future__ import annotations

from baton.deploy.statefun.topology import MASTER, Topology

# (Flink process size, container memory limit): the Helm chart's master, a worker sized for RocksDB.
MASTER_MEMORY = ("1g", "1536Mi")
WORKER_MEMORY = ("2g", "2560Mi")
CHECKPOINT_DIR = "/checkpoint-dir"  # where a file:// checkpoint volume is mounted

LOG4J_CONSOLE = """\
rootLogger.level = INFO
rootLogger.appenderRef.console.ref = ConsoleAppender
appender.console.name = ConsoleAppender
appender.console.type = CONSOLE
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
logger.netty.name = org.apache.flink.shaded.akka.org.jboss.netty.channel.DefaultChannelPipeline
logger.netty.level = OFF
"""


def flink_conf(topology: Topology) -> str:
    options = topology.options
    settings = {
        "statefun.flink-job-name": options.app,
        "jobmanager.rpc.address": MASTER,
        "jobmanager.rpc.port": 6123,
        "blob.server.port": 6124,
        "taskmanager.rpc.port": 6122,
        "taskmanager.numberOfTaskSlots": 1,
        "parallelism.default": options.workers,
        # StateFun refuses to start without these (StatefulFunctionsConfigValidator).
        "classloader.parent-first-patterns.additional":
            "org.apache.flink.statefun;org.apache.kafka;com.google.protobuf",
        "state.backend": "rocksdb",
        "state.backend.rocksdb.timer-service.factory": "ROCKSDB",
        "state.backend.incremental": "true",
        "state.checkpoints.dir": options.checkpoints,
        "execution.checkpointing.interval": options.checkpoint_interval,
        "execution.checkpointing.mode": "EXACTLY_ONCE",
        # StateFun does not support unaligned checkpoints.
        "execution.checkpointing.unaligned": "false",
        # A failing function restarts the job from the last checkpoint, forever (the image's own).
        "restart-strategy": "fixed-delay",
        "restart-strategy.fixed-delay.attempts": 2147483647,
        "restart-strategy.fixed-delay.delay": "1sec",
        "jobmanager.memory.process.size": MASTER_MEMORY[0],
        "taskmanager.memory.process.size": WORKER_MEMORY[0],
        "pipeline.auto-generate-uids": "false",
        "execution.savepoint.ignore-unclaimed-state": "true",
    }
    lines = [f"# Rendered by `baton build` for {options.app}: {options.workers} worker(s), "
             "one slot each."]
    lines += [f"{key}: {value}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"
