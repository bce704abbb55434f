"""The members API's routes."""

from django.urls import path
from rest_framework_simplejwt.views import TokenBlacklistView, TokenObtainPairView, TokenRefreshView

from members import views

urlpatterns = [
    path("api/register/", views.RegisterView.as_view()),
    path("api/token/", TokenObtainPairView.as_view()),
    path("api/token/refresh/", TokenRefreshView.as_view()),
    path("api/token/blacklist/", TokenBlacklistView.as_view()),
    path("api/users/", views.UserListView.as_view()),
    path("api/users/me/", views.MeView.as_view()),
    path("api/users/me/password/", views.PasswordView.as_view()),
    path("api/users/<str:username>/role/", views.RoleView.as_view()),
]
