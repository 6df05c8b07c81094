"""All SQL of the storefront: connection, migrations and one repository per table."""

from storage.admin_log import AdminAction, AdminLog
from storage.alerts import Alert, AlertRepo
from storage.create_slots import CreateSlotRepo
from storage.credit import CreditEntry, CreditRepo
from storage.db import Database
from storage.flags import FlagRepo
from storage.g2a import G2ARepo, Listing, ListingState, Reservation, ReservationState
from storage.leases import LeaseRepo
from storage.models import Key, Offer, Order, OrderState
from storage.offers import OfferRepo
from storage.orders import OrderRepo, TransitionError
from storage.payments import StrayPayment, StrayPaymentRepo
from storage.secrets import KeyCipher
from storage.support import ForumTopicRepo, SupportMessageRepo
from storage.users import UserRepo

__all__ = [
    "AdminAction",
    "AdminLog",
    "Alert",
    "AlertRepo",
    "CreateSlotRepo",
    "CreditEntry",
    "CreditRepo",
    "Database",
    "FlagRepo",
    "ForumTopicRepo",
    "G2ARepo",
    "Key",
    "KeyCipher",
    "LeaseRepo",
    "Listing",
    "ListingState",
    "Offer",
    "OfferRepo",
    "Order",
    "OrderRepo",
    "OrderState",
    "Reservation",
    "ReservationState",
    "StrayPayment",
    "StrayPaymentRepo",
    "SupportMessageRepo",
    "TransitionError",
    "UserRepo",
]
