"""Serializers of the members API."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import password_validation
from django.contrib.auth.models import User
from rest_framework import serializers
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.tokens import Token

ROLES = ("user", "admin")


def role_of(user: User) -> str:
    return "admin" if user.is_staff else "user"


class RoleTokenObtainPairSerializer(TokenObtainPairSerializer):
    """simplejwt's documented customisation: extra claims on the pair (copied to refreshed access)."""

    @classmethod
    def get_token(cls, user: User) -> Token:
        token = super().get_token(user)
        token["username"] = user.username
        token["role"] = role_of(user)
        return token


class UserSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "role", "date_joined"]

    def get_role(self, user: User) -> str:
        return role_of(user)


class NewUserSerializer(serializers.ModelSerializer):
    password = serializers.CharField(write_only=True)
    role = serializers.ChoiceField(choices=ROLES, default="user", write_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "password", "role"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        password_validation.validate_password(attrs["password"], User(username=attrs["username"]))
        return attrs

    def create(self, validated_data: dict[str, Any]) -> User:
        role = validated_data.pop("role", "user")
        return User.objects.create_user(is_staff=role == "admin", **validated_data)


class PasswordChangeSerializer(serializers.Serializer):
    old_password = serializers.CharField()
    new_password = serializers.CharField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user = self.context["request"].user
        if not user.check_password(attrs["old_password"]):
            raise serializers.ValidationError({"old_password": "Wrong password."})
        password_validation.validate_password(attrs["new_password"], user)
        return attrs


class RoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=ROLES)
