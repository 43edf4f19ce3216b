"""The profit area: unit profit per experiment arm (daily) and aggregate profit (fiscal month)."""

from __future__ import annotations

from warehouse.failures import FailureKind
from warehouse.pipelines.base import Check, CheckContext, Measure, Pipeline, Step

BOUNDS = "partition_key, period_start, period_end"
PRODUCTS = "SELECT product_code FROM products"
REGIONS = "SELECT region_code FROM regions"

unit_profit_experiments = Pipeline(
    name="unit_profit_experiments",
    area="profit",
    grain="day",
    investor_reporting=False,
    description="Unit-level profit per experiment arm, daily.",
    sources=("transactions", "registrations"),
    primary_table="transactions",
    primary_key="txn_id",
    critical_columns=("product_code", "revenue_cents"),
    mappings=(("product_code", PRODUCTS),),
    complete_tables=("transactions",),
    steps=(
        Step(
            "unit_profit_daily",
            f"""INSERT INTO unit_profit_daily ({BOUNDS}, day, experiment, arm, buyers,
                    transactions, units, revenue_cents, cogs_cents, profit_cents)
            SELECT :p, :start, :end, t.txn_date, ea.experiment, ea.arm,
                   COUNT(DISTINCT t.user_id), COUNT(*), SUM(t.quantity),
                   COALESCE(SUM(t.revenue_cents), 0),
                   COALESCE(SUM(t.quantity * pr.unit_cost_cents), 0),
                   COALESCE(SUM(t.revenue_cents - t.quantity * pr.unit_cost_cents), 0)
            FROM transactions t
            JOIN experiment_assignments ea ON ea.user_id = t.user_id
            LEFT JOIN products pr ON pr.product_code = t.product_code
            WHERE t.txn_date BETWEEN :start AND :end
            GROUP BY t.txn_date, ea.experiment, ea.arm""",
        ),
    ),
    daily_table="unit_profit_daily",
    measure=Measure(
        "transactions",
        "SELECT COUNT(*) FROM transactions t JOIN experiment_assignments ea"
        " ON ea.user_id = t.user_id AND ea.experiment = 'checkout_v2'"
        " WHERE t.txn_date BETWEEN :start AND :end",
        "SELECT COALESCE(SUM(transactions), 0) FROM unit_profit_daily"
        " WHERE partition_key = :p AND experiment = 'checkout_v2'",
    ),
    report_name="unit profit per experiment arm",
    report_sql="""SELECT day, experiment, arm, buyers, transactions, units, revenue_cents,
                         cogs_cents, profit_cents,
                         profit_cents * 1.0 / NULLIF(units, 0) AS profit_per_unit_cents
                  FROM unit_profit_daily WHERE partition_key = :p
                  ORDER BY day, experiment, arm""",
)


def _margin(ctx: CheckContext) -> str:
    low, high = float(ctx.config.margin_min), float(ctx.config.margin_max)
    margin = "profit_cents * 1.0 / revenue_cents"
    return f"""SELECT product_code, region_code, revenue_cents, profit_cents,
                      {margin} AS margin
               FROM profit_monthly WHERE partition_key = :p AND revenue_cents > 0
                 AND ({margin} < {low} OR {margin} > {high})"""


aggregate_profit = Pipeline(
    name="aggregate_profit",
    area="profit",
    grain="fiscal_month",
    investor_reporting=True,
    description="Profit by product, region and fiscal month, reported to investors.",
    sources=("transactions",),
    primary_table="transactions",
    primary_key="txn_id",
    critical_columns=("product_code", "region_code", "revenue_cents"),
    mappings=(("product_code", PRODUCTS), ("region_code", REGIONS)),
    complete_tables=("transactions",),
    steps=(
        Step(
            "profit_monthly",
            f"""INSERT INTO profit_monthly ({BOUNDS}, product_code, region_code, transactions,
                    revenue_cents, cogs_cents, allocated_cents, profit_cents)
            SELECT :p, :start, :end, s.product_code, s.region_code, s.txns, s.revenue, s.cogs,
                   COALESCE(ca.cost_cents, 0), s.revenue - s.cogs - COALESCE(ca.cost_cents, 0)
            FROM (SELECT t.product_code, t.region_code, COUNT(*) AS txns,
                         COALESCE(SUM(t.revenue_cents), 0) AS revenue,
                         COALESCE(SUM(t.quantity * pr.unit_cost_cents), 0) AS cogs
                  FROM transactions t
                  LEFT JOIN products pr ON pr.product_code = t.product_code
                  WHERE t.txn_date BETWEEN :start AND :end
                  GROUP BY t.product_code, t.region_code) s
            LEFT JOIN cost_allocations ca ON ca.period = :p
                 AND ca.product_code = s.product_code AND ca.region_code = s.region_code""",
        ),
    ),
    daily_table=None,
    measure=Measure(
        "transactions",
        "SELECT COUNT(*) FROM transactions WHERE txn_date BETWEEN :start AND :end",
        "SELECT COALESCE(SUM(transactions), 0) FROM profit_monthly WHERE partition_key = :p",
    ),
    checks=(
        Check(
            "margin_thresholds",
            FailureKind.DATA_QUALITY,
            _margin,
            description="profit margin of every product and region within thresholds",
        ),
    ),
    report_name="monthly profit by product and region",
    report_sql="""SELECT product_code, region_code, transactions, revenue_cents, cogs_cents,
                         allocated_cents, profit_cents,
                         profit_cents * 1.0 / NULLIF(revenue_cents, 0) AS margin
                  FROM profit_monthly WHERE partition_key = :p
                  ORDER BY product_code, region_code""",
    feed_metrics="""SELECT SUM(revenue_cents) AS revenue_cents, SUM(profit_cents) AS profit_cents,
                           SUM(profit_cents) * 1.0 / NULLIF(SUM(revenue_cents), 0) AS margin
                    FROM profit_monthly WHERE partition_key = :p""",
)
