"""The API of assessment cycles: HR creates, edits, opens and closes them and adds people."""

import django_filters
from django.db import transaction
from django.db.models import Count
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import OrgUnit, User
from accounts.permissions import Capability
from competency.models import ModelVersion
from config.api import (
    ApiPagination,
    CapabilityRequired,
    StrictMixin,
    StrictSerializer,
    error_responses,
)

from .. import services
from ..models import Cycle
from ..services import WorkflowError

REVISION_MAX = 2**31 - 1

# --- cycles ---------------------------------------------------------------------------------------


class CycleSerializer(StrictMixin, serializers.ModelSerializer):
    """A cycle's settings (editable while draft) and its state (set by the open/close actions)."""

    model_version = serializers.SlugRelatedField(
        slug_field="number",
        queryset=ModelVersion.objects.published(),
        help_text="Number of a published model version.",
    )
    participant_units = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=OrgUnit.objects.none(),
        required=False,
        help_text="Unit ids: their managers and supervisors take part (whole subtrees).",
    )
    participant_people = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=User.objects.none(),
        required=False,
        help_text="Ids of further active people who take part.",
    )
    self_weight = serializers.DecimalField(
        max_digits=3,
        decimal_places=2,
        min_value=0,
        max_value=1,
        required=False,
        help_text="Share of the self level under the weighted rule (0 < w < 1).",
    )
    assessment_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Cycle
        fields = [
            "id",
            "name",
            "model_version",
            "status",
            "self_deadline",
            "review_deadline",
            "reminder_days",
            "final_rule",
            "self_weight",
            "participant_units",
            "participant_people",
            "created_by",
            "created_at",
            "opened_at",
            "closed_at",
            "assessment_count",
        ]
        read_only_fields = ["status", "created_by", "created_at", "opened_at", "closed_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "participant_units" in self.fields:
            user = request.user
            self.fields["participant_units"].child_relation.queryset = OrgUnit.objects.visible_to(
                user
            )
            self.fields["participant_people"].child_relation.queryset = User.objects.visible_to(
                user
            ).filter(is_active=True)

    def _value(self, attrs, name):
        if name in attrs:
            return attrs[name]
        return getattr(self.instance, name, None) if self.instance else None

    def validate(self, attrs):
        self_deadline = self._value(attrs, "self_deadline")
        review_deadline = self._value(attrs, "review_deadline")
        if self_deadline and review_deadline and review_deadline < self_deadline:
            raise serializers.ValidationError(
                {"review_deadline": [_("主管评价截止日期不能早于自评截止日期。")]}
            )
        rule = self._value(attrs, "final_rule") or Cycle.FinalRule.SUPERVISOR
        weight = attrs.get("self_weight")
        if rule == Cycle.FinalRule.WEIGHTED:
            weight = self._value(attrs, "self_weight") if weight is None else weight
            if weight is None or not 0 < weight < 1:
                raise serializers.ValidationError(
                    {
                        "self_weight": [
                            _(
                                "加权规则下自评权重必须大于 0 且小于 1（为 0 时请选择“以主管评价为准”）。"
                            )
                        ]
                    }
                )
        return attrs


class CycleResultSerializer(serializers.Serializer):
    """The cycle after an action, and how many assessments the action touched."""

    cycle = CycleSerializer()
    count = serializers.IntegerField(
        help_text="open: assessments created; close: marked not completed; participants: created."
    )


class ParticipantsSerializer(StrictSerializer):
    people = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=User.objects.none(),
        allow_empty=False,
        help_text="Ids of active people to add (in an open cycle they get their assessment now).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["people"].child_relation.queryset = User.objects.visible_to(
                request.user
            ).filter(is_active=True)


class CycleFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Cycle.Status.choices, label="Cycles in a state.")
    model_version = django_filters.NumberFilter(
        field_name="model_version__number", label="Cycles over this model version number."
    )

    class Meta:
        model = Cycle
        fields = ["status", "model_version"]


CYCLE_WRITE_ERRORS = (400, 401, 403, 404, 409)


@extend_schema_view(
    list=extend_schema(
        summary="Assessment cycles (HR)",
        responses={200: CycleSerializer(many=True), **error_responses(400, 401, 403, 404)},
    ),
    retrieve=extend_schema(
        summary="One assessment cycle (HR)",
        responses={200: CycleSerializer, **error_responses(401, 403, 404)},
    ),
    create=extend_schema(
        summary="Create a draft cycle (HR)",
        responses={201: CycleSerializer, **error_responses(400, 401, 403)},
    ),
    update=extend_schema(
        summary="Replace a draft cycle's settings (HR)",
        responses={200: CycleSerializer, **error_responses(*CYCLE_WRITE_ERRORS)},
    ),
    partial_update=extend_schema(
        summary="Change a draft cycle's settings (HR)",
        responses={200: CycleSerializer, **error_responses(*CYCLE_WRITE_ERRORS)},
    ),
)
class CycleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Cycles, for holders of ``cycle.manage`` (HR) only; settings change only while draft."""

    queryset = Cycle.objects.none()  # the model, for the schema; reads use get_queryset
    serializer_class = CycleSerializer
    permission_classes = [*viewsets.GenericViewSet.permission_classes, CapabilityRequired]
    capability = Capability.MANAGE_CYCLES
    pagination_class = ApiPagination
    filterset_class = CycleFilter
    ordering_fields = ["id", "name", "created_at", "self_deadline", "review_deadline"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        # Cycles belong to no person: the capability above is their scope.
        return (
            Cycle.objects.select_related("model_version")
            .prefetch_related("participant_units", "participant_people")
            .annotate(assessment_count=Count("assessments"))
        )

    def _answer(self, cycle, code=status.HTTP_200_OK, count=None) -> Response:
        cycle = self.get_queryset().get(pk=cycle.pk)
        data = self.get_serializer(cycle).data
        if count is not None:
            data = {"cycle": data, "count": count}
        return Response(data, status=code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            cycle = serializer.save(created_by=request.user)
        return self._answer(cycle, status.HTTP_201_CREATED)

    def update(self, request, *args, partial=False, **kwargs):
        with transaction.atomic():
            # Locked: opening the cycle meanwhile cannot slip between the check and the save.
            cycle = get_object_or_404(Cycle.objects.select_for_update(), pk=self.get_object().pk)
            if cycle.status != Cycle.Status.DRAFT:
                raise WorkflowError(_("只有草稿状态的评估周期可以修改设置。"))
            serializer = self.get_serializer(cycle, data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            serializer.save()
        return self._answer(cycle)

    @extend_schema(
        summary="Open a draft cycle (HR)",
        description="Every participant gets an assessment; the model version is fixed from now.",
        request=None,
        responses={200: CycleResultSerializer, **error_responses(401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def open(self, request, pk=None):
        created = services.open_cycle(cycle=self.get_object(), by=request.user)
        return self._answer(self.get_object(), count=created)

    @extend_schema(
        summary="Close an open cycle (HR)",
        description="Everything unfinished becomes “not completed” (no final level).",
        request=None,
        responses={200: CycleResultSerializer, **error_responses(401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        expired = services.close_cycle(cycle=self.get_object(), by=request.user)
        return self._answer(self.get_object(), count=expired)

    @extend_schema(
        summary="Add people to a draft or open cycle (HR)",
        request=ParticipantsSerializer,
        responses={200: CycleResultSerializer, **error_responses(*CYCLE_WRITE_ERRORS)},
    )
    @action(detail=True, methods=["post"])
    def participants(self, request, pk=None):
        cycle = self.get_object()
        body = ParticipantsSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        created = services.add_participants(
            cycle=cycle, people=body.validated_data["people"], by=request.user
        )
        return self._answer(cycle, count=created)
