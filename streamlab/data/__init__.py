"""The data on the wire: the generator and producer, reading topics (decoding any bytes
without trusting them), the topic catalog, and the state stores read back from their changelogs."""
