"""Lesson 17: the live dashboard — WebSocket updates, the interactive-query API, alert notifications."""
