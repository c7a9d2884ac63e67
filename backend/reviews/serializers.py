from django.utils.translation import gettext as _
from rest_framework import serializers

from backend.core.serializers import StrictCharField
from backend.reviews.models import MAX_RATING, MAX_TEXT_LENGTH, MIN_RATING, Review


class ReviewInputSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=MIN_RATING, max_value=MAX_RATING, help_text="1 to 5 stars.")
    comment = StrictCharField(max_length=MAX_TEXT_LENGTH, required=False, allow_blank=True)


class ReviewReplySerializer(serializers.Serializer):
    reply = StrictCharField(max_length=MAX_TEXT_LENGTH)


class ReviewSerializer(serializers.ModelSerializer):
    customer_name = serializers.SerializerMethodField(help_text='The first name, or "Customer".')

    class Meta:
        model = Review
        fields = (
            "id",
            "rating",
            "comment",
            "staff",
            "service",
            "customer_name",
            "reply",
            "replied_at",
            "created_at",
            "updated_at",
        )

    def get_customer_name(self, review: Review) -> str:
        # Only the first name is public: the full name and the phone are the customer's own.
        first, *_rest = review.customer.name.split() or [_("Customer")]
        return first


class ReviewModerationSerializer(ReviewSerializer):
    """What platform admins see: the public body and whether it is hidden."""

    class Meta(ReviewSerializer.Meta):
        fields = (*ReviewSerializer.Meta.fields, "is_hidden", "hidden_at")
