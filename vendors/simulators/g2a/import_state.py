"""State of the G2A Import API simulator: access tokens, offers, the jobs that create them
and uploaded key collections. Time-dependent state is read from the simulator's clock.

A job's outcome is decided when it is created (a steered outcome, a refusal, or
``completed``); its status then moves ``pending`` -> ``processing`` -> that outcome, one
step per ``polls_per_step`` polls of the job or per ``step_seconds`` of clock time,
whichever comes first. The offer exists (is listed, readable, editable) from the moment
its job is seen ``completed``. Keys are secrets and are never logged.
"""

from __future__ import annotations

import logging
import math
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from vendors.simulators.base import Clock
from vendors.simulators.common import iso
from vendors.simulators.g2a.import_wire import (
    COLLECTION_NOT_FOUND,
    JOB_NOT_FOUND,
    OFFER_NOT_FOUND,
    JobStatus,
    OfferStatus,
    not_found,
)

logger = logging.getLogger("vendors.simulators.g2a.import")

DEFAULT_TOKEN_TTL = 3600.0  # seconds, the contract's expires_in
DEFAULT_JOB_STEP_SECONDS = 1.0
_STAGES = 2  # pending, processing, then the outcome


@dataclass(frozen=True)
class JobOutcome:
    """How a job ends: ``completed``, or ``failed``/``cancelled`` with a code and message."""

    status: JobStatus
    code: str | None = None
    message: str | None = None


COMPLETED = JobOutcome("completed")


@dataclass
class SimOffer:
    """One offer of ours on G2A's marketplace (mutable: the API and tests edit it)."""

    offer_id: str
    offer_type: str
    product_id: str
    price: float
    visibility: str
    active: bool
    size: int  # declared stock; a promo offer's stock is its keys instead
    variant: Any
    created_at: float
    updated_at: float
    keys: list[str] = field(default_factory=list, repr=False)
    images: list[bytes] = field(default_factory=list, repr=False)
    sold: int = 0

    @property
    def status(self) -> OfferStatus:
        return "active" if self.active else "inactive"

    @property
    def stock(self) -> int:
        if self.offer_type == "promo":
            return len(self.keys) + len(self.images)
        return self.size

    def doc(self) -> dict[str, Any]:
        """The offer as ``GET /integration-api/v1/offers/{offerId}`` answers it."""
        return {
            "id": self.offer_id,
            "type": self.offer_type,
            "productId": self.product_id,
            "price": self.price,
            "visibility": self.visibility,
            "status": self.status,
            "active": self.active,
            "inventory": {"size": self.stock},
            "variant": self.variant,
            "sold": self.sold,
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.updated_at),
        }


@dataclass
class SimJob:
    job_id: str
    created_at: float
    outcome: JobOutcome
    offer: SimOffer | None = field(default=None, repr=False)  # created on completion
    polls: int = 0
    stage: int = 0  # 0 pending, 1 processing, 2 the outcome; never goes back

    @property
    def status(self) -> JobStatus:
        if self.stage < _STAGES:
            return ("pending", "processing")[self.stage]
        return self.outcome.status

    def doc(self) -> dict[str, Any]:
        """``{jobId, resourceId?, resourceType?, status, code?, message?}``."""
        doc: dict[str, Any] = {"jobId": self.job_id, "status": self.status}
        if self.status == "completed" and self.offer is not None:
            doc |= {"resourceId": self.offer.offer_id, "resourceType": "offer"}
        if self.stage >= _STAGES and self.outcome.code is not None:
            doc |= {"code": self.outcome.code, "message": self.outcome.message}
        return doc


@dataclass
class Collection:
    """Keys uploaded with ``POST .../offers/{id}/inventory``, waiting to be attached."""

    offer_id: str
    keys: list[str] = field(repr=False)
    images: list[bytes] = field(repr=False)


class ImportState:
    """Tokens, offers, jobs and collections of one simulated G2A seller account."""

    def __init__(self, clock: Clock, *, token_ttl: float = DEFAULT_TOKEN_TTL) -> None:
        self.clock = clock
        self.token_ttl = token_ttl  # seconds a new token lives (tests make it short)
        self.token_requests = 0  # tokens handed out
        self.job_step_seconds: float | None = DEFAULT_JOB_STEP_SECONDS  # None: polls only
        self.job_polls_per_step = 1
        self.tokens: dict[str, float] = {}  # access token -> expiry (clock time)
        self.offers: dict[str, SimOffer] = {}
        self.jobs: dict[str, SimJob] = {}
        self.collections: dict[str, Collection] = {}
        self._outcomes: list[JobOutcome] = []

    # ----------------------------------------------------------------- tokens

    def issue_token(self) -> dict[str, Any]:
        self.token_requests += 1
        token = secrets.token_urlsafe(24)
        self.tokens[token] = self.clock() + self.token_ttl
        logger.info("token %d issued, expires in %.0f s", self.token_requests, self.token_ttl)
        return {
            "access_token": token,
            "expires_in": max(0, math.floor(self.token_ttl)),
            "token_type": "Bearer",
        }

    def token_valid(self, token: str) -> bool:
        expiry = self.tokens.get(token)
        return expiry is not None and self.clock() < expiry

    def expire_tokens(self) -> None:
        """Every token handed out so far stops working (as if its time ran out)."""
        self.tokens.clear()

    # ----------------------------------------------------------------- jobs

    def queue_outcome(self, outcome: JobOutcome, times: int = 1) -> None:
        self._outcomes.extend([outcome] * times)

    def start_job(self, offer: SimOffer, refusal: JobOutcome | None) -> SimJob:
        """A creation job for ``offer``; a steered outcome wins over ``refusal``."""
        outcome = self._outcomes.pop(0) if self._outcomes else (refusal or COMPLETED)
        job = SimJob(str(uuid.uuid4()), self.clock(), outcome, offer)
        self.jobs[job.job_id] = job
        logger.info(
            "job %s: create %s offer for product %s",
            job.job_id,
            offer.offer_type,
            offer.product_id,
        )
        return job

    def poll_job(self, job_id: str) -> SimJob:
        job = self.jobs.get(job_id)
        if job is None:
            raise not_found(JOB_NOT_FOUND, "Job")
        self._advance(job, job.polls // self.job_polls_per_step)
        job.polls += 1
        return job

    def settle(self) -> None:
        """Move every job on by the clock (offers of completed jobs come into being)."""
        for job in self.jobs.values():
            self._advance(job, 0)

    def _advance(self, job: SimJob, by_polls: int) -> None:
        by_time = 0
        if self.job_step_seconds is not None:
            by_time = (
                _STAGES
                if self.job_step_seconds <= 0
                else int((self.clock() - job.created_at) / self.job_step_seconds)
            )
        stage = min(_STAGES, max(job.stage, by_polls, by_time))
        if stage == job.stage:
            return
        job.stage = stage
        logger.info("job %s: %s", job.job_id, job.status)
        if job.status == "completed" and job.offer is not None:
            now = self.clock()
            job.offer.created_at = job.offer.updated_at = now
            self.offers[job.offer.offer_id] = job.offer

    def pending_offer_for(self, product_id: str, offer_type: str) -> bool:
        """An offer of this type for this product exists or is being created."""
        return any(
            job.offer is not None
            and job.outcome.status == "completed"
            and (job.offer.product_id, job.offer.offer_type) == (product_id, offer_type)
            for job in self.jobs.values()
        )

    # ----------------------------------------------------------------- offers

    def offer(self, offer_id: str) -> SimOffer:
        offer = self.offers.get(offer_id)
        if offer is None:
            raise not_found(OFFER_NOT_FOUND, "Offer")
        return offer

    def add_collection(self, offer: SimOffer, keys: list[str], images: list[bytes]) -> str:
        collection_id = str(uuid.uuid4())
        self.collections[collection_id] = Collection(offer.offer_id, keys, images)
        count = len(keys) + len(images)
        logger.info("offer %s: collection %s of %d keys", offer.offer_id, collection_id, count)
        return collection_id

    def attach(self, offer: SimOffer, collection_id: str) -> None:
        """Move an uploaded collection's keys into the offer's stock (once)."""
        collection = self.collections.get(collection_id)
        if collection is None or collection.offer_id != offer.offer_id:
            raise not_found(COLLECTION_NOT_FOUND, "Inventory collection")
        del self.collections[collection_id]
        offer.keys.extend(collection.keys)
        offer.images.extend(collection.images)

    def record_sale(self, offer_id: str, quantity: int = 1) -> None:
        """G2A sold ``quantity`` of the offer: ``sold`` grows, the stock shrinks."""
        offer = self.offer(offer_id)
        for _ in range(quantity):
            if offer.keys:
                offer.keys.pop(0)
            elif offer.images:
                offer.images.pop(0)
        offer.size = max(0, offer.size - quantity)
        offer.sold += quantity
        offer.updated_at = self.clock()
        logger.info("offer %s: %d sold (%d in all)", offer_id, quantity, offer.sold)
