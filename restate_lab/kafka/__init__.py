"""Kafka subscriptions: clusters, subscriptions and one consumer per subscription over the runtime."""
