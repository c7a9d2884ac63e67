import pytest

from tests.support.factories import client_for, make_admin, make_staff, make_user


@pytest.fixture
def staff(salon, service):
    return make_staff(salon, services=[service])


@pytest.fixture
def manager_client(manager):
    return client_for(manager)


@pytest.fixture
def admin_client():
    return client_for(make_admin())


@pytest.fixture
def customer_client():
    return client_for(make_user())
