from rest_framework.routers import SimpleRouter

from .activities import ActivityViewSet
from .views import AlertViewSet, CarePlanViewSet, GoalViewSet, ObservationViewSet, ThresholdViewSet

router = SimpleRouter()
router.register("careplans", CarePlanViewSet, basename="careplan")
router.register("goals", GoalViewSet, basename="goal")
router.register("activities", ActivityViewSet, basename="activity")
router.register("observations", ObservationViewSet, basename="observation")
router.register("thresholds", ThresholdViewSet, basename="threshold")
router.register("alerts", AlertViewSet, basename="alert")

urlpatterns = router.urls
