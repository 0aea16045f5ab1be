"""Kafka subscriptions: clusters, subscriptions and one consumer per subscription over the runtime.

    from restate_lab.kafka import TansuBroker, kafka_ingress

    with TansuBroker() as broker:                       # needs scripts/install-tansu.sh
        kafka = kafka_ingress(lab.engine)               # call on the engine's loop
        kafka.create_cluster("local", {"bootstrap.servers": broker.bootstrap_servers})

The admin API (``/kafka-clusters``, ``/subscriptions``) drives the same object.
"""

from restate_lab.kafka.broker import TansuBroker, TansuNotInstalled, find_tansu
from restate_lab.kafka.ingress import KafkaIngress, kafka_ingress
from restate_lab.kafka.model import KafkaAdminError, KafkaCluster, Subscription

__all__ = [
    "KafkaAdminError",
    "KafkaCluster",
    "KafkaIngress",
    "Subscription",
    "TansuBroker",
    "TansuNotInstalled",
    "find_tansu",
    "kafka_ingress",
]
