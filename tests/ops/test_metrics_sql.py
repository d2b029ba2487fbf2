"""The desk's percentiles are read by the database at a rank; they equal the same rank of the sorted values."""
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.metrics import percentile, sql_percentiles
from jobs.models import Job

pytestmark = pytest.mark.django_db


# The preset is made once; each example replaces the jobs.
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.one_of(st.none(), st.floats(min_value=0, max_value=1e7, allow_nan=False)),
                       max_size=40),
       q=st.sampled_from([0, 1, 50, 95, 99, 100]))
def test_sql_percentile_is_the_percentile_of_the_recorded_values(preset, values, q):
    Job.objects.all().delete()
    Job.objects.bulk_create([Job(preset=preset, inputs={}, preview_s=value) for value in values])
    expected = percentile([v for v in values if v is not None], q)
    got = sql_percentiles(Job.objects.all(), "preview_s", (q,))[q]
    assert got == expected or (got is not None and math.isclose(got, expected, rel_tol=1e-12))
