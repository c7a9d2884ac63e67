"""The invited person's side of staff invitations: a manager sets a staff member's `phone`; whoever logs in
with that phone sees the invitation here and accepts (then they are the salon's staff) or declines."""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.core.serializers import error_responses
from backend.salons import selectors, services
from backend.salons.models import InvitationStatus, StaffMember


class StaffInvitationSerializer(serializers.ModelSerializer):
    salon_name = serializers.CharField(source="salon.localized_name", read_only=True)
    name = serializers.CharField(
        source="localized_name", read_only=True, help_text="The staff member's name, as the salon wrote it."
    )
    status = serializers.ChoiceField(InvitationStatus.choices, source="invitation_status", read_only=True)

    class Meta:
        model = StaffMember
        fields = ("id", "salon", "salon_name", "name", "invited_at", "status")
        read_only_fields = fields


@extend_schema_view(
    get=extend_schema(
        operation_id="me_staff_invitations_list",
        summary="My pending staff invitations",
        description="Salons whose manager added a staff member with my phone number, not yet accepted or "
        "declined, newest first.",
        responses={200: StaffInvitationSerializer(many=True), **error_responses(400, 401, 404)},
    )
)
class StaffInvitationListView(generics.ListAPIView):
    serializer_class = StaffInvitationSerializer

    def get_queryset(self) -> QuerySet[StaffMember]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator, without a user
            return StaffMember.objects.none()
        return selectors.staff_invitations_pending(user=self.request.user)


_ANSWER = {200: StaffInvitationSerializer, **error_responses(401, 404)}


class StaffInvitationAcceptView(APIView):
    @extend_schema(operation_id="me_staff_invitations_accept", request=None, responses=_ANSWER)
    def post(self, request: Request, invitation_id: int) -> Response:
        """I become this salon's staff member (roles then include `staff`). Accepting again answers the
        same; an invitation that is not mine, declined or withdrawn is 404."""
        staff = services.staff_invitation_accept(user=request.user, staff_id=invitation_id)
        return Response(StaffInvitationSerializer(staff).data)


class StaffInvitationDeclineView(APIView):
    @extend_schema(operation_id="me_staff_invitations_decline", request=None, responses=_ANSWER)
    def post(self, request: Request, invitation_id: int) -> Response:
        """I do not join this salon; its manager sees `declined` and may invite again. Declining again
        answers the same; an invitation that is not mine, accepted or withdrawn is 404."""
        staff = services.staff_invitation_decline(user=request.user, staff_id=invitation_id)
        return Response(StaffInvitationSerializer(staff).data)
