"""The engagement area: DAU and MAU per fiscal month, reported to investors."""

from __future__ import annotations

from warehouse.failures import FailureKind
from warehouse.pipelines.base import Check, CheckContext, Measure, Pipeline, Step
from warehouse.scales import EVENT_TYPES

BOUNDS = "partition_key, period_start, period_end"
EVENT_TYPE_LIST = ", ".join(f"'{t}'" for t in EVENT_TYPES)


def _swing(ctx: CheckContext) -> str:
    """MAU moved more than the threshold against the previous month with no annotation."""
    limit = float(ctx.config.swing_threshold)
    return f"""SELECT cur.partition_key, prev.mau AS previous_mau, cur.mau AS mau,
                      (cur.mau - prev.mau) * 1.0 / prev.mau AS change
               FROM engagement_monthly cur
               JOIN engagement_monthly prev ON prev.partition_key = :prev_p
               WHERE cur.partition_key = :p AND prev.mau > 0
                 AND ABS(cur.mau - prev.mau) * 1.0 / prev.mau > {limit}
                 AND NOT EXISTS (SELECT 1 FROM annotations a
                                 WHERE a.pipeline = 'aggregate_engagement'
                                   AND a.partition_key = :p)"""


def _durations(_ctx: CheckContext) -> str:
    return """SELECT session_id, user_id, duration_s FROM sessions
              WHERE session_date BETWEEN :start AND :end
                AND (duration_s IS NULL OR duration_s <= 0)"""


aggregate_engagement = Pipeline(
    name="aggregate_engagement",
    area="engagement",
    grain="fiscal_month",
    investor_reporting=True,
    description="Daily and monthly active users and sessions, reported to investors.",
    sources=("events",),
    primary_table="events",
    primary_key="event_id",
    critical_columns=("user_id", "event_type"),
    mappings=(("event_type", EVENT_TYPE_LIST),),
    complete_tables=("events", "sessions"),
    steps=(
        Step(
            "engagement_daily",
            f"""INSERT INTO engagement_daily ({BOUNDS}, day, dau, sessions, total_duration_s)
            SELECT :p, :start, :end, e.day, e.dau, COALESCE(s.sessions, 0), s.total
            FROM (SELECT event_date AS day, COUNT(DISTINCT user_id) AS dau FROM events
                  WHERE event_date BETWEEN :start AND :end GROUP BY event_date) e
            LEFT JOIN (SELECT session_date AS day, COUNT(*) AS sessions,
                              SUM(duration_s) AS total
                       FROM sessions WHERE session_date BETWEEN :start AND :end
                       GROUP BY session_date) s ON s.day = e.day""",
        ),
        Step(
            "engagement_monthly",
            f"""INSERT INTO engagement_monthly ({BOUNDS}, mau, dau_avg, sessions, avg_session_s)
            SELECT :p, :start, :end,
                   (SELECT COUNT(DISTINCT user_id) FROM events
                    WHERE event_date BETWEEN :start AND :end),
                   (SELECT COALESCE(AVG(dau * 1.0), 0) FROM engagement_daily
                    WHERE partition_key = :p),
                   COUNT(*), AVG(duration_s * 1.0)
            FROM sessions WHERE session_date BETWEEN :start AND :end""",
        ),
    ),
    daily_table="engagement_daily",
    measure=Measure(
        "sessions",
        "SELECT COUNT(*) FROM sessions WHERE session_date BETWEEN :start AND :end",
        "SELECT COALESCE(SUM(sessions), 0) FROM engagement_daily WHERE partition_key = :p",
    ),
    checks=(
        Check(
            "no_unannotated_swing",
            FailureKind.DATA_QUALITY,
            _swing,
            description="MAU within the swing threshold of the previous month, or annotated",
        ),
        Check(
            "session_duration_positive",
            FailureKind.DATA_QUALITY,
            _durations,
            description="every session lasts more than 0 seconds",
        ),
    ),
    report_name="monthly engagement report",
    report_sql="""SELECT day, dau, sessions, total_duration_s FROM engagement_daily
                  WHERE partition_key = :p ORDER BY day""",
    feed_metrics="""SELECT mau, dau_avg, sessions, avg_session_s FROM engagement_monthly
                    WHERE partition_key = :p""",
)
