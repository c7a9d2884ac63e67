"""Clients of the external providers, one module each: messaging (Authentica, Unifonic, console) and
payments (Moyasar).

Every client calls through `backend.core.http.provider_call` and returns a `base.SendResult`
(messaging) or a `base.GatewayPayment` (payments); failures
raise `backend.core.http.ProviderError`. Callers pass the read timeout they can afford."""
