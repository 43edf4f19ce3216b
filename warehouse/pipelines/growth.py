"""The growth area: weekly net new users with churn (investors) and daily growth per arm."""

from __future__ import annotations

from warehouse.failures import FailureKind
from warehouse.pipelines.base import Check, CheckContext, Measure, Pipeline, Step

BOUNDS = "partition_key, period_start, period_end"
REGIONS = "SELECT region_code FROM regions"


def _registrations_match_logs(_ctx: CheckContext) -> str:
    return """SELECT day, SUM(wh) AS warehouse_registrations, SUM(logs) AS log_registrations
              FROM (SELECT day, registrations AS wh, 0 AS logs FROM growth_daily
                    WHERE partition_key = :p
                    UNION ALL
                    SELECT day, 0, 1 FROM activity_log_events
                    WHERE day BETWEEN :start AND :end AND event_type = 'registration') d
              GROUP BY day HAVING SUM(wh) <> SUM(logs) ORDER BY day"""


def _churn_matches_cancellations(_ctx: CheckContext) -> str:
    return """SELECT w.churned, c.cancellations
              FROM (SELECT COALESCE(SUM(churned_users), 0) AS churned FROM growth_weekly
                    WHERE partition_key = :p) w,
                   (SELECT COUNT(*) AS cancellations FROM subscription_cancellations
                    WHERE cancelled_on BETWEEN :start AND :end) c
              WHERE w.churned <> c.cancellations"""


aggregate_growth = Pipeline(
    name="aggregate_growth",
    area="growth",
    grain="week",
    investor_reporting=True,
    description="Net new users with churn adjustment per region and ISO week, for investors.",
    sources=("registrations",),
    primary_table="registrations",
    primary_key="user_id",
    critical_columns=("region_code",),
    mappings=(("region_code", REGIONS),),
    complete_tables=("registrations", "subscription_cancellations"),
    steps=(
        Step(
            "growth_daily",
            f"""INSERT INTO growth_daily ({BOUNDS}, day, region_code, registrations, cancellations)
            SELECT :p, :start, :end, d.day, d.region_code, SUM(d.regs), SUM(d.cancels)
            FROM (SELECT registered_on AS day, region_code, 1 AS regs, 0 AS cancels
                  FROM registrations WHERE registered_on BETWEEN :start AND :end
                  UNION ALL
                  SELECT c.cancelled_on, r.region_code, 0, 1
                  FROM subscription_cancellations c JOIN registrations r ON r.user_id = c.user_id
                  WHERE c.cancelled_on BETWEEN :start AND :end) d
            GROUP BY d.day, d.region_code""",
        ),
        Step(
            "growth_weekly",
            f"""INSERT INTO growth_weekly ({BOUNDS}, region_code, new_users, churned_users,
                    net_new_users)
            SELECT :p, :start, :end, region_code, SUM(registrations), SUM(cancellations),
                   SUM(registrations) - SUM(cancellations)
            FROM growth_daily WHERE partition_key = :p GROUP BY region_code""",
        ),
    ),
    daily_table="growth_daily",
    measure=Measure(
        "registrations",
        "SELECT COUNT(*) FROM registrations WHERE registered_on BETWEEN :start AND :end",
        "SELECT COALESCE(SUM(new_users), 0) FROM growth_weekly WHERE partition_key = :p",
    ),
    checks=(
        Check(
            "registrations_match_logs",
            FailureKind.DATA_QUALITY,
            _registrations_match_logs,
            reads_activity_logs=True,
            description="daily registration counts match the activity logs",
        ),
        Check(
            "churn_matches_cancellations",
            FailureKind.LATE_ARRIVING_DATA,
            _churn_matches_cancellations,
            description="churned users equal the subscription cancellations of the week",
        ),
    ),
    report_name="weekly growth report",
    report_sql="""SELECT region_code, new_users, churned_users, net_new_users
                  FROM growth_weekly WHERE partition_key = :p ORDER BY region_code""",
    feed_metrics="""SELECT SUM(new_users) AS new_users, SUM(churned_users) AS churned_users,
                           SUM(net_new_users) AS net_new_users
                    FROM growth_weekly WHERE partition_key = :p""",
)

daily_growth_experiments = Pipeline(
    name="daily_growth_experiments",
    area="growth",
    grain="day",
    investor_reporting=False,
    description="Daily new, churned and active users per experiment arm.",
    sources=("registrations", "events"),
    primary_table="registrations",
    primary_key="user_id",
    critical_columns=("region_code",),
    mappings=(("region_code", REGIONS),),
    complete_tables=("registrations", "subscription_cancellations", "events"),
    steps=(
        Step(
            "growth_experiments_daily",
            f"""INSERT INTO growth_experiments_daily ({BOUNDS}, day, experiment, arm, new_users,
                    churned_users, active_users)
            SELECT :p, :start, :end, :start, ea.experiment, ea.arm,
                   SUM(x.new), SUM(x.churn), SUM(x.active)
            FROM (SELECT user_id, 1 AS new, 0 AS churn, 0 AS active FROM registrations
                  WHERE registered_on BETWEEN :start AND :end
                  UNION ALL
                  SELECT user_id, 0, 1, 0 FROM subscription_cancellations
                  WHERE cancelled_on BETWEEN :start AND :end
                  UNION ALL
                  SELECT DISTINCT user_id, 0, 0, 1 FROM events
                  WHERE event_date BETWEEN :start AND :end) x
            JOIN experiment_assignments ea ON ea.user_id = x.user_id
            GROUP BY ea.experiment, ea.arm""",
        ),
    ),
    daily_table="growth_experiments_daily",
    measure=Measure(
        "registrations",
        "SELECT COUNT(*) FROM registrations WHERE registered_on BETWEEN :start AND :end",
        "SELECT COALESCE(SUM(new_users), 0) FROM growth_experiments_daily"
        " WHERE partition_key = :p AND experiment = 'checkout_v2'",
    ),
    report_name="daily growth per experiment arm",
    report_sql="""SELECT day, experiment, arm, new_users, churned_users, active_users
                  FROM growth_experiments_daily WHERE partition_key = :p
                  ORDER BY day, experiment, arm""",
)
