"""``/api/auth``: sessions (``_session``), user administration (``_admin``), API keys (``_keys``).

Only login, refresh, logout and register are public; everything else needs a signed-in caller.
"""

from litestar import Router

from ._admin import users_router
from ._keys import keys_router
from ._session import change_password, login, logout, me, refresh, register

router = Router(
    path="/",
    route_handlers=[
        login,
        refresh,
        logout,
        me,
        change_password,
        register,
        users_router,
        keys_router,
    ],
)
