from rest_framework.routers import SimpleRouter

from .views import DeliveryViewSet, HospitalEventViewSet, MessageViewSet

router = SimpleRouter()
router.register("messages", MessageViewSet, basename="message")
router.register("hospital-events", HospitalEventViewSet, basename="hospital-event")
router.register("deliveries", DeliveryViewSet, basename="delivery")

urlpatterns = router.urls
