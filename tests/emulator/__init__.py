"""A local emulator of the Volcengine AIoT Video OpenAPI and its voice-talk WebSocket.

``Emulator`` (app.py) serves the gateway and the aiotvideo actions, ``TalkServer`` (talk.py) the
``AudioSendUrl`` WebSocket, ``EventServer`` (events.py) the alarms and their callback,
``RecordingService`` (recordings.py) the cloud and device recordings and their media,
``data.py`` the demo account and ``signature.py`` the verifier.
"""
