"""Automatic call distribution: agents, skills, queues, routing, metrics."""
