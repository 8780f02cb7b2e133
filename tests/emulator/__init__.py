"""A local emulator of the Volcengine AIoT Video OpenAPI and its voice-talk WebSocket."""
