"""Views of the members API: open sign-up (always role user), the caller's own account, and the
staff-only user administration."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.shortcuts import get_object_or_404
from rest_framework import generics, permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from members.serializers import NewUserSerializer, PasswordChangeSerializer, RoleSerializer, UserSerializer


class RegisterView(generics.CreateAPIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list[Any] = []
    serializer_class = NewUserSerializer

    def perform_create(self, serializer: NewUserSerializer) -> None:
        serializer.save(role="user")  # sign-up never chooses its role


class UserListView(generics.ListCreateAPIView):
    permission_classes = [permissions.IsAdminUser]
    queryset = User.objects.order_by("id")

    def get_serializer_class(self) -> type:
        return NewUserSerializer if self.request.method == "POST" else UserSerializer


class MeView(generics.RetrieveDestroyAPIView):
    serializer_class = UserSerializer

    def get_object(self) -> User:
        return self.request.user


class PasswordView(APIView):
    def put(self, request: Request) -> Response:
        serializer = PasswordChangeSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        request.user.set_password(serializer.validated_data["new_password"])
        request.user.save()
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoleView(APIView):
    permission_classes = [permissions.IsAdminUser]

    def put(self, request: Request, username: str) -> Response:
        user = get_object_or_404(User, username=username)
        serializer = RoleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user.is_staff = serializer.validated_data["role"] == "admin"
        user.save(update_fields=["is_staff"])
        return Response(UserSerializer(user).data)
