"""Clients of the external providers, one module each: messaging (Authentica, Unifonic, console), push
(FCM), WhatsApp (the Cloud API; its webhook helpers in `whatsapp_webhook`) and payments (Moyasar).

Every client calls through `backend.core.http.provider_call` and returns a `base.SendResult`
(messaging) or a `base.GatewayPayment` (payments); failures
raise `backend.core.http.ProviderError` (`base.RecipientUnreachable` when the channel cannot reach that
recipient and the message should go on to the next one). Callers pass the read timeout they can afford."""
