"""Output serializers build their fields once per class; each serializer binds its own copies."""

from __future__ import annotations

from rest_framework import serializers as drf

from peerings.api.serializers import PeeringSerializer, StatusChangeSerializer, UpstreamCallSerializer


def test_output_fields_are_built_once_and_bound_to_each_serializer(monkeypatch):
    for serializer_class in (PeeringSerializer, UpstreamCallSerializer, StatusChangeSerializer):
        serializer_class().fields  # noqa: B018  (the first use builds them)
    built = []
    real = drf.ModelSerializer.get_fields
    monkeypatch.setattr(drf.ModelSerializer, "get_fields", lambda self: built.append(self) or real(self))

    first, second = PeeringSerializer(), PeeringSerializer()

    assert list(first.fields) == list(second.fields) == list(PeeringSerializer.Meta.fields)
    assert built == []
    for name in ("name", "status", "request_vpc_info", "allowed_actions"):
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first
        assert second.fields[name].parent is second
    assert first.fields["allowed_actions"].method_name == "get_allowed_actions"
