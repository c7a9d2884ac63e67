"""Every message text, in one place, in Arabic and English. Placeholders are filled by
`notification_render`; times arrive already formatted in the salon's time zone."""

from backend.notifications.models import Kind

MESSAGES: dict[str, dict[str, str]] = {
    Kind.BOOKING_CONFIRMED: {
        "ar": "تم تأكيد حجزك في {salon}: {service} مع {staff}، {when}.",
        "en": "Your booking at {salon} is confirmed: {service} with {staff}, {when}.",
    },
    Kind.BOOKING_CANCELLED: {
        "ar": "تم إلغاء حجزك في {salon} ({service}، {when}).{refund}",
        "en": "Your booking at {salon} ({service}, {when}) was cancelled.{refund}",
    },
    Kind.BOOKING_RESCHEDULED: {
        "ar": "تم تغيير موعد حجزك في {salon}: {service} مع {staff}، {when}.",
        "en": "Your booking at {salon} was moved: {service} with {staff}, {when}.",
    },
    Kind.BOOKING_EXPIRED: {
        "ar": "انتهت مهلة الدفع لحجزك في {salon} ({service}، {when}) وأُلغي الحجز.",
        "en": "Your booking at {salon} ({service}, {when}) expired unpaid and was released.",
    },
    Kind.PAYMENT_RECEIVED: {
        "ar": "استلمنا دفعتك {amount} لحجزك في {salon}، {when}.",
        "en": "We received your payment of {amount} for your booking at {salon}, {when}.",
    },
    Kind.REFUND_ISSUED: {
        "ar": "تم رد مبلغ {amount} إلى وسيلة الدفع لحجزك في {salon}.",
        "en": "A refund of {amount} for your booking at {salon} is on its way to your payment method.",
    },
    Kind.REMINDER_24H: {
        "ar": "تذكير: موعدك غدًا في {salon}: {service} مع {staff}، {when}.",
        "en": "Reminder: tomorrow at {salon}: {service} with {staff}, {when}.",
    },
    Kind.REMINDER_2H: {
        "ar": "تذكير: موعدك بعد ساعتين في {salon}: {service} مع {staff}، {when}.",
        "en": "Reminder: in two hours at {salon}: {service} with {staff}, {when}.",
    },
    Kind.WAITLIST_OFFER: {
        "ar": "توفر موعد في {salon}: {service} مع {staff}، {when}. محجوز لك حتى {until}؛ اقبله في التطبيق.",
        "en": "A time opened at {salon}: {service} with {staff}, {when}. It is held for you until {until}; "
        "accept it in the app.",
    },
}

REFUND_SUFFIX = {
    "ar": " سيُرد لك {amount}.",
    "en": " {amount} will be refunded.",
}
