"""On-call: who covers each hour, and who answers for a pipeline.

Reading order: `rotation` (weeks and handoffs as time), `absences` (who is away when, public
holidays per calendar), `holiday_swaps` (each week's primary after long absences), `shifts`
(a stretch of on-call time), `hours` (who covers each hour of a week), `schedule` (who is on
call, coverage gaps), `stats` (the load per engineer), `feeds` (iCalendar feeds), then
`responders` (who may approve a pipeline's publication, whom to notify first).
"""
