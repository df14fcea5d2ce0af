"""Model fields of Opora's own."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.expressions import Col
from django.db.models.lookups import Lookup

from opora.core.crypto import blind_index, blind_indexes, keyring

PREFIX = "enc1:"
NONCE_BYTES = 12


def field_keys() -> dict[str, bytes]:
    """`OPORA_FIELD_KEY` (and `OPORA_FIELD_OLD_KEYS` after a rotation); see `core.crypto`."""
    return keyring("OPORA_FIELD_KEY", "OPORA_FIELD_OLD_KEYS", purpose=b"opora-field-key")


def current_key_id() -> str:
    return next(iter(field_keys()))


def _aesgcm(key: bytes) -> AESGCM:
    cached = _AESGCM.get(key)
    if cached is None:
        cached = _AESGCM[key] = AESGCM(key)
    return cached


_AESGCM: dict[bytes, AESGCM] = {}


def encrypt_text(value: str, *, aad: bytes) -> str:
    key_id, key = next(iter(field_keys().items()))
    nonce = os.urandom(NONCE_BYTES)
    sealed = nonce + _aesgcm(key).encrypt(nonce, value.encode(), aad)
    return f"{PREFIX}{key_id}:{base64.urlsafe_b64encode(sealed).decode()}"


def is_current(stored: str | None) -> bool:
    """Whether a stored value needs no re-encryption: empty, or sealed under the current key."""
    return not stored or stored.startswith(f"{PREFIX}{current_key_id()}:")


def decrypt_text(stored: str, *, aad: bytes) -> str:
    """The plain text of a stored value; a value written before encryption came is returned as
    it is."""
    if not stored.startswith(PREFIX):
        return stored
    key_id, _, payload = stored[len(PREFIX) :].partition(":")
    key = field_keys().get(key_id)
    if key is None:
        raise ImproperlyConfigured(
            f"A stored secret was encrypted with key {key_id}, which is neither OPORA_FIELD_KEY "
            "nor in OPORA_FIELD_OLD_KEYS."
        )
    sealed = base64.urlsafe_b64decode(payload)
    try:
        return _aesgcm(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad).decode()
    except InvalidTag:
        raise ImproperlyConfigured(
            f"A stored secret does not decrypt with key {key_id}: it was changed or moved."
        ) from None


class EncryptedMixin:
    """AES-GCM at rest for a text field.

    `max_length` limits the plain text, as a form sees it; the column is text, because the stored
    form is longer (`enc1:<key id>:<base64 of nonce, ciphertext and tag>`). The associated data
    names the model and the field, so a value copied into another column does not decrypt. An empty
    value stays empty. Every save encrypts with a fresh nonce, so the column cannot be searched:
    an exact lookup is answered by the field's blind index (`BlindIndexField(source=…)` beside
    it), `isnull` and `= ""` work, any other lookup is refused (it would silently find nothing).
    Ordering by the column orders ciphertexts: sort decrypted values in Python.
    """

    name: str
    model: type[models.Model]
    blind: BlindIndexField | None = None  # set by the blind index beside it

    def get_internal_type(self) -> str:
        return "TextField"

    def aad(self) -> bytes:
        return f"opora-field:{self.model._meta.label_lower}.{self.name}".encode()

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if not value:
            return value
        return decrypt_text(value, aad=self.aad())

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)  # type: ignore[misc]
        if not value:
            return value
        return encrypt_text(str(value), aad=self.aad())

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "exact":
            return BlindExact
        if lookup_name == "in":
            return BlindIn
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)  # type: ignore[misc]
        raise FieldError(
            f"{self.model._meta.label}.{self.name} is encrypted: it cannot be searched with "
            f"'{lookup_name}' (use its blind index)."
        )

    def get_transform(self, lookup_name: str) -> Any:
        return None


class EncryptedCharField(EncryptedMixin, models.CharField):
    """A short secret or personal value (a password, a token, a name, an IIN, a phone)."""


class EncryptedTextField(EncryptedMixin, models.TextField):
    """Free text (a reason, a protocol, a chat message, a letter's body)."""


class EncryptedEmailField(EncryptedMixin, models.EmailField):
    """An e-mail address; search it through a `BlindIndexField(kind="email")`."""


class EncryptedJSONField(EncryptedMixin, models.TextField):
    """A JSON value (a dict or a list) sealed as one encrypted text: the raw payload of a webhook,
    a dialogue's unfinished answers. Nothing inside can be queried in SQL — keep what must be
    (a provider's update id for de-duplication) in a plain column beside it. Every value is
    sealed, also `{}`; a value stored before encryption (plain JSON text) still reads."""

    # For django-stubs: the attribute holds what the JSON decodes to, not the column's text.
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.pop("max_length", None)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return json.loads(decrypt_text(value, aad=self.aad()))

    def to_python(self, value: Any) -> Any:
        # A serialised value (fixtures, `value_to_string`) is JSON text; anything else is the
        # Python value already.
        if isinstance(value, str) and value:
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        return encrypt_text(
            json.dumps(value, ensure_ascii=False, cls=DjangoJSONEncoder), aad=self.aad()
        )

    def value_to_string(self, obj: Any) -> str:
        return json.dumps(self.value_from_object(obj), cls=DjangoJSONEncoder)

    def formfield(self, **kwargs: Any) -> Any:
        from django.forms import JSONField as JSONFormField

        return super().formfield(**{"form_class": JSONFormField, **kwargs})


class EncryptedBinaryField(EncryptedMixin, models.BinaryField):
    """Bytes (a file sent with a message, e.g. a booking's .ics) sealed as one encrypted text:
    the plain form is the base64 of the bytes, so rotation (`encrypt_rows`) treats it like any
    other encrypted text. A value stored before encryption (plain base64) still reads; empty
    bytes are stored empty."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        if value == "":
            return b""
        return base64.b64decode(decrypt_text(value, aad=self.aad()))

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        data = bytes(value)
        if not data:
            return ""
        return encrypt_text(base64.b64encode(data).decode("ascii"), aad=self.aad())

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        return value if prepared else self.get_prep_value(value)


def _blind_of(lookup: Lookup) -> tuple[BlindIndexField | None, Any]:
    field = lookup.lhs.target
    return field.blind, field


class EncryptedDateField(EncryptedMixin, models.DateField):
    """A personal date (a child's birth date), stored as its encrypted ISO form; it cannot be
    filtered or ordered in the database (derive a non-personal column where a query needs one)."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        plain = super().from_db_value(value, expression, connection)
        if not plain or isinstance(plain, dt.date):
            return plain
        return dt.date.fromisoformat(str(plain)[:10])

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        return value if prepared else self.get_prep_value(value)


class BlindExact(Lookup):
    """`encrypted_field = value` answered by the blind index column beside it (every index key's
    hash, so that lookups keep working while `rotate_keys` recomputes the indexes); `= ""` and
    `= None` compare the stored column itself (an empty value is stored empty)."""

    lookup_name = "exact"
    prepare_rhs = False
    can_use_none_as_rhs = True

    def get_db_prep_lookup(self, value: Any, connection: Any) -> Any:
        return ("%s", [value])

    def _values(self) -> list[str]:
        return [self.rhs]

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        if not hasattr(self.lhs, "target"):
            # A constraint checked in Python compares values, not columns (Q.check).
            from django.db.models.lookups import Exact, In

            plain = (In if self.lookup_name == "in" else Exact)(self.lhs, self.rhs)
            return plain.as_sql(compiler, connection)
        blind, field = _blind_of(self)
        if hasattr(self.rhs, "resolve_expression"):
            raise FieldError(
                f"{field.model._meta.label}.{field.name} is encrypted: compare its blind index "
                "with an expression, not the column."
            )
        values = [v for v in self._values() if v not in (None, "")]
        empties = [v for v in self._values() if v in (None, "")]
        parts: list[str] = []
        params: list[Any] = []
        if empties:
            lhs_sql, lhs_params = compiler.compile(self.lhs)
            if None in empties:
                parts.append(f"{lhs_sql} IS NULL")
                params.extend(lhs_params)
            if "" in empties:
                parts.append(f"{lhs_sql} = %s")
                params.extend([*lhs_params, ""])
        if values:
            if blind is None:
                raise FieldError(
                    f"{field.model._meta.label}.{field.name} is encrypted and has no blind "
                    "index: it cannot be searched."
                )
            hashes = sorted({h for v in values for h in blind_indexes(blind.kind, str(v))})
            col_sql, col_params = compiler.compile(Col(self.lhs.alias, blind))
            if hashes:
                marks = ", ".join(["%s"] * len(hashes))
                parts.append(f"{col_sql} IN ({marks})")
                params.extend([*col_params, *hashes])
        if not parts:
            return "1 = 0", []
        return "(" + " OR ".join(parts) + ")", params


class BlindIn(BlindExact):
    lookup_name = "in"

    def _values(self) -> list[str]:
        return list(self.rhs)


class BlindIndexField(models.CharField):
    """The keyed hash (`core.crypto.blind_index`) of the encrypted field `source`, kept up to date
    on every save (also with `update_fields` naming the source). Exact lookups on the source use
    it; `kind` picks the normalisation ("iin", "phone", "email")."""

    def __init__(self, *args: Any, source: str = "", kind: str = "", **kwargs: Any) -> None:
        self.source, self.kind = source, kind
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"], kwargs["kind"] = self.source, self.kind
        for key, default in (
            ("max_length", 32),
            ("blank", True),
            ("default", ""),
            ("editable", False),
        ):
            if kwargs.get(key) == default:
                kwargs.pop(key, None)
        return name, path, args, kwargs

    def contribute_to_class(self, cls: Any, name: str, private_only: bool = False) -> None:
        super().contribute_to_class(cls, name, private_only)
        models.signals.class_prepared.connect(self._link, sender=cls, weak=False)
        models.signals.pre_save.connect(self._widen_update, sender=cls, weak=False)

    def _link(self, sender: Any, **kwargs: Any) -> None:
        sender._meta.get_field(self.source).blind = self

    def _widen_update(self, sender: Any, instance: Any, update_fields: Any, **kwargs: Any) -> None:
        if update_fields and self.source in update_fields and self.name not in update_fields:
            raise FieldError(
                f"Saving {sender._meta.label}.{self.source} with update_fields needs "
                f"'{self.name}' too (use core.sensitive.with_indexes)."
            )

    def pre_save(self, model_instance: Any, add: bool) -> Any:
        value = blind_index(self.kind, getattr(model_instance, self.source) or "")
        setattr(model_instance, self.attname, value)
        return value


class NameTokensField(models.TextField):
    """The blind indexes of the words of the name fields `sources` and of each word's prefixes of
    2 letters or more, as " h1 h2 … " (16 hex digits each): a name search finds the rows that have
    every asked word as the beginning of a word (no substrings inside words — the price of not
    storing names in clear). `fold` (a dotted path, e.g. the registry's name normaliser) folds
    case, ё/е and Kazakh letters before hashing."""

    TOKEN_HEX = 16
    MIN_PREFIX = 2

    def __init__(
        self, *args: Any, sources: tuple[str, ...] = (), fold: str = "", **kwargs: Any
    ) -> None:
        self.sources, self.fold = tuple(sources), fold
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["sources"], kwargs["fold"] = self.sources, self.fold
        for key, default in (("blank", True), ("default", ""), ("editable", False)):
            if kwargs.get(key) == default:
                kwargs.pop(key, None)
        return name, path, args, kwargs

    def contribute_to_class(self, cls: Any, name: str, private_only: bool = False) -> None:
        super().contribute_to_class(cls, name, private_only)
        models.signals.pre_save.connect(self._widen_update, sender=cls, weak=False)

    def _widen_update(self, sender: Any, instance: Any, update_fields: Any, **kwargs: Any) -> None:
        if (
            update_fields
            and set(self.sources) & set(update_fields)
            and self.name not in update_fields
        ):
            raise FieldError(
                f"Saving the names of {sender._meta.label} with update_fields needs '{self.name}' "
                "too (use core.sensitive.with_indexes)."
            )

    def words(self, value: str) -> list[str]:
        from django.utils.module_loading import import_string

        from opora.core.crypto import name_tokens

        if self.fold:
            value = import_string(self.fold)(value)
        return name_tokens(value)

    def tokens(self, *values: str, key: bytes | None = None) -> list[str]:
        words = {
            w[:n]
            for v in values
            for w in self.words(v or "")
            for n in range(self.MIN_PREFIX, len(w) + 1)
        }
        words |= {w for v in values for w in self.words(v or "") if len(w) < self.MIN_PREFIX}
        return sorted(blind_index("name", w, key=key)[: self.TOKEN_HEX] for w in words)

    def stored(self, *values: str) -> str:
        tokens = self.tokens(*values)
        return f" {' '.join(tokens)} " if tokens else ""

    def pre_save(self, model_instance: Any, add: bool) -> Any:
        value = self.stored(*(getattr(model_instance, s) or "" for s in self.sources))
        setattr(model_instance, self.attname, value)
        return value


def name_search_q(model: Any, field: str, query: str) -> models.Q:
    """Rows of `model` whose `NameTokensField` named `field` has every word of `query` as a word
    or a word's beginning (under any index key, mid-rotation)."""
    from opora.core.crypto import index_keys

    tokens_field = model._meta.get_field(field)
    words = tokens_field.words(query)
    if not words:
        return models.Q(pk__in=[])
    q = models.Q()
    for word in words:
        either = models.Q(pk__in=[])
        for key in index_keys().values():
            token = blind_index("name", word, key=key)[: NameTokensField.TOKEN_HEX]
            either |= models.Q(**{f"{field}__contains": f" {token} "})
        q &= either
    return q


def encrypt_existing(app_label: str, model_name: str, *fields: str) -> Any:
    """A `RunPython` operation for the migration that turns `fields` into `EncryptedCharField`:
    forwards it encrypts the values already stored; backwards it writes them back as plain text
    (before the column becomes a short `varchar` again)."""
    from django.db import migrations

    def forwards(apps: Any, schema_editor: Any) -> None:
        model = apps.get_model(app_label, model_name)
        encrypt_rows(model, fields, using=schema_editor.connection.alias)

    def backwards(apps: Any, schema_editor: Any) -> None:
        model = apps.get_model(app_label, model_name)
        qn = schema_editor.quote_name
        columns = {f: model._meta.get_field(f).column for f in fields}
        sets = ", ".join(f"{qn(c)} = %s" for c in columns.values())
        sql = f"UPDATE {qn(model._meta.db_table)} SET {sets} WHERE {qn(model._meta.pk.column)} = %s"  # noqa: S608 - quoted identifiers
        with schema_editor.connection.cursor() as cursor:
            for row in model.objects.using(schema_editor.connection.alias).all():
                values = [_plain_stored(model._meta.get_field(f), getattr(row, f)) for f in fields]
                cursor.execute(sql, [*values, row.pk])

    return migrations.RunPython(forwards, backwards)


def _plain_stored(field: Any, value: Any) -> Any:
    """What an encrypted field's column held before encryption, for `encrypt_existing` backwards."""
    if isinstance(field, EncryptedJSONField):
        return json.dumps(value, cls=DjangoJSONEncoder)
    if isinstance(field, EncryptedBinaryField):
        return base64.b64encode(bytes(value)).decode("ascii") if value is not None else None
    return value


def settle_constraints() -> Any:
    """A `RunPython` operation (both ways) for a migration that alters a table after updating its
    rows: on PostgreSQL the updates leave deferred foreign-key checks pending, and ALTER TABLE
    refuses to run until they are done ("pending trigger events"); this runs them now."""
    from django.db import migrations

    def settle(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    return migrations.RunPython(settle, settle)


def encrypt_rows(
    model: Any,
    fields: tuple[str, ...] | list[str],
    *,
    using: str = "default",
    reindex: bool = False,
    batch_size: int = 1000,
) -> int:
    """Encrypt (or re-encrypt under the current key) `fields` of every row of `model` that is
    not yet current, `batch_size` rows per transaction, with the blind indexes and name tokens
    derived from them. Resumable: a row whose values are all sealed under the current key is
    skipped, so a rerun continues where a stopped one ended, and readers see either form meanwhile
    (both decrypt). `reindex` recomputes the derived columns of every row (after the index key is
    rotated). Works on historical models (migrations) too. Returns the rows rewritten."""
    from django.db import connections, transaction

    from opora.core.crypto import blind_index

    connection = connections[using]
    qn = connection.ops.quote_name
    meta = model._meta
    label = meta.label_lower
    fields = list(fields)
    columns = {f: meta.get_field(f).column for f in fields}
    derived = [
        f
        for f in meta.concrete_fields
        if isinstance(f, (BlindIndexField, NameTokensField))
        and (getattr(f, "source", "") in fields or set(getattr(f, "sources", ())) & set(fields))
    ]
    prefix = f"{PREFIX}{current_key_id()}:"
    pk = qn(meta.pk.column)
    table = qn(meta.db_table)
    select = ", ".join(qn(c) for c in columns.values())
    done, last = 0, None
    while True:
        where = f"WHERE {pk} > %s " if last is not None else ""
        sql = f"SELECT {pk}, {select} FROM {table} {where}ORDER BY {pk} LIMIT {int(batch_size)}"  # noqa: S608 - quoted identifiers
        with transaction.atomic(using=using), connection.cursor() as cursor:
            cursor.execute(sql, [last] if last is not None else [])
            rows = cursor.fetchall()
            if not rows:
                return done
            last = rows[-1][0]
            for row in rows:
                stored = dict(zip(fields, row[1:], strict=True))
                if not reindex and all(not v or v.startswith(prefix) for v in stored.values()):
                    continue
                plain = {
                    f: decrypt_text(v, aad=f"opora-field:{label}.{f}".encode()) if v else v
                    for f, v in stored.items()
                }
                changes: dict[str, Any] = {
                    columns[f]: (
                        encrypt_text(v, aad=f"opora-field:{label}.{f}".encode()) if v else v
                    )
                    for f, v in plain.items()
                }
                for d in derived:
                    if isinstance(d, BlindIndexField):
                        source = plain.get(d.source)
                        if source is None and d.source not in plain:
                            continue
                        changes[str(d.column)] = blind_index(d.kind, source or "")
                    else:
                        changes[str(d.column)] = d.stored(*(plain.get(s) or "" for s in d.sources))
                sets = ", ".join(f"{qn(c)} = %s" for c in changes)
                cursor.execute(
                    f"UPDATE {table} SET {sets} WHERE {pk} = %s",  # noqa: S608 - quoted identifiers
                    [*changes.values(), row[0]],
                )
                done += 1
