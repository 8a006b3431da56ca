from rest_framework.routers import SimpleRouter

from .views import CitizenViewSet, ConditionViewSet

router = SimpleRouter()
router.register("citizens", CitizenViewSet, basename="citizen")
router.register("conditions", ConditionViewSet, basename="condition")

urlpatterns = router.urls
