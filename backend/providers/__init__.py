"""Clients of the external messaging providers, one module each (Authentica, Unifonic, console).

Every client calls through `backend.core.http.provider_call` and returns a `base.SendResult`; failures
raise `backend.core.http.ProviderError`. Callers pass the read timeout they can afford."""
