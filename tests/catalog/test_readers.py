"""Readers: every format and encoding, header aliases, text-first values, unreadable files."""

from __future__ import annotations

import codecs
import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from amz_pipeline.catalog.errors import CatalogReadError
from amz_pipeline.catalog.readers import READ_ERROR, RaggedRowsError, open_catalog, read_catalog

UNICODE_TITLE = "Café 日本語 😀 e\u0301 שלום עולם"


def _rows(frame: pl.DataFrame) -> list[dict]:
    return frame.drop(READ_ERROR).to_dicts()


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
def test_delimiter_is_sniffed(tmp_path, delimiter):
    path = tmp_path / "catalog.csv"
    path.write_text(delimiter.join(["item_sku", "standard_price", "title"]) + "\n"
                    + delimiter.join(["A-1", "12.99", '"Shirt, blue"']) + "\n", encoding="utf-8")
    frame = read_catalog(path)
    assert _rows(frame) == [{"row": 2, "sku": "A-1", "price": "12.99", "item_name": "Shirt, blue"}]


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE),
     ("utf-16-be", codecs.BOM_UTF16_BE), ("utf-16-le", b"")],
)
def test_unicode_encodings_round_trip(tmp_path, encoding, bom):
    path = tmp_path / "catalog.tsv"
    text = f"SKU\tTitle\nsku-1\t{UNICODE_TITLE}\n"
    path.write_bytes(bom + text.encode(encoding))
    with open_catalog(path) as source:
        frame = source.lazy().collect()
        assert source.warnings == []
    assert frame["item_name"].to_list() == [UNICODE_TITLE]
    assert frame["sku"].to_list() == ["sku-1"]


def test_windows_1252_falls_back_with_a_warning(tmp_path):
    path = tmp_path / "legacy.csv"
    path.write_bytes("sku;title;price\nA;Caf\u00e9 \u20ac;12,99\n".encode("cp1252"))
    with open_catalog(path) as source:
        frame = source.lazy().collect()
        assert any("Windows-1252" in w for w in source.warnings)
    assert frame["item_name"].to_list() == ["Café €"]
    assert frame["price"].to_list() == ["12,99"]  # decimal commas are resolved per marketplace, later


def test_values_stay_text(tmp_path):
    path = tmp_path / "catalog.csv"
    huge = "x" * 300_000
    path.write_text(
        "sku,price,quantity,item_name,notes\n"
        'A,12.50,007,"=HYPERLINK(""http://x"",""y"")",1e5\n'
        f"B,abc,3.0,{huge},\n"
        "C,1,2,\"multi\nline\",true\n",
        encoding="utf-8",
    )
    frame = read_catalog(path)
    assert frame.schema["price"] == pl.String and frame.schema["notes"] == pl.String
    assert frame["item_name"].to_list() == ['=HYPERLINK("http://x","y")', huge, "multi\nline"]
    assert frame["quantity"].to_list() == ["007", "3.0", "2"]
    assert frame["price"].to_list() == ["12.50", "abc", "1"]
    assert frame["row"].to_list() == [2, 3, 4]


def test_unknown_columns_are_kept_and_reported(tmp_path):
    path = tmp_path / "catalog.csv"
    path.write_text("Seller-SKU,Department,Some Custom Thing\nA,mens,42\n", encoding="utf-8")
    with open_catalog(path) as source:
        frame = source.lazy().collect()
        assert source.unknown_columns == ["Some Custom Thing"]  # department is a product-type attribute
        assert any("Some Custom Thing" in w for w in source.warnings)
    assert _rows(frame) == [{"row": 2, "sku": "A", "department": "mens", "some_custom_thing": "42"}]


def test_rows_with_surplus_fields_are_flagged_not_lost(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("sku,price\nA,1\nB,2,3\nC\n", encoding="utf-8")
    frame = read_catalog(path)
    assert frame["sku"].to_list() == ["A", "B", "C"]
    assert frame[READ_ERROR].to_list() == [None, "row has 3 fields but the header has 2", None]


def test_ndjson_reads_every_key_as_text(tmp_path):
    path = tmp_path / "catalog.ndjson"
    lines = [
        {"seller-sku": "A", "price": 12.5, "attributes_json": {"color": [{"value": "red"}]}},
        {"seller-sku": 42, "price": "12,50"},
        {"seller-sku": "C", "late_key": True},
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\nnot json\n", encoding="utf-8")
    frame = read_catalog(path)
    assert frame["sku"].to_list() == ["A", "42", "C", None]
    assert frame["price"].to_list() == ["12.5", "12,50", None, None]
    assert json.loads(frame["attributes_json"][0]) == {"color": [{"value": "red"}]}
    assert frame["late_key"].to_list() == [None, None, "true", None]
    assert frame[READ_ERROR].to_list() == [None, None, None, "this line is not a JSON object"]
    assert frame["row"].to_list() == [1, 2, 3, 4]


def test_json_array_file(tmp_path):
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps([{"sku": "A", "qty": 3}, {"sku": "B", "qty": None}]), encoding="utf-8")
    assert _rows(read_catalog(path)) == [{"row": 1, "sku": "A", "quantity": "3"}, {"row": 2, "sku": "B", "quantity": None}]


def test_parquet_non_text_columns_become_text(tmp_path):
    path = tmp_path / "catalog.parquet"
    pl.DataFrame({
        "SKU": ["a", "b"], "price": [1.5, None], "qty": [3, 4], "tags": [[1], [2, 3]],
        "restock_date": [dt.date(2025, 1, 2), None],
    }).write_parquet(path)
    assert _rows(read_catalog(path)) == [
        {"row": 1, "sku": "a", "price": "1.5", "quantity": "3", "tags": "[1]", "restock_date": "2025-01-02"},
        {"row": 2, "sku": "b", "price": None, "quantity": "4", "tags": "[2,3]", "restock_date": None},
    ]


def test_xlsx_text_numbers_formulas_and_dates(tmp_path):
    path = tmp_path / "catalog.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, ["SKU", "Price", "Qty", "restock_date", "Title"])
    sheet.write_row(1, 0, ["A", 12.99, 5])
    sheet.write_datetime(1, 3, dt.datetime(2024, 1, 2), date_format)
    sheet.write_string(1, 4, '=HYPERLINK("http://x")')
    sheet.write_row(2, 0, [123, "12,99", "many", None, UNICODE_TITLE])
    book.close()
    assert _rows(read_catalog(path)) == [
        {"row": 2, "sku": "A", "price": "12.99", "quantity": "5", "restock_date": "2024-01-02",
         "item_name": '=HYPERLINK("http://x")'},
        {"row": 3, "sku": "123", "price": "12,99", "quantity": "many", "restock_date": None,
         "item_name": UNICODE_TITLE},
    ]


def test_batches_cover_every_row_once(tmp_path):
    path = tmp_path / "big.csv"
    pl.DataFrame({"sku": [f"S{i}" for i in range(2_500)], "price": ["1.00"] * 2_500}).write_csv(path)
    with open_catalog(path) as source:
        batches = list(source.batches(1_000))
    assert all(b.height <= 1_000 for b in batches)
    rows = pl.concat(batches)["row"].to_list()
    assert rows == list(range(2, 2_502))


def test_batches_come_from_one_staged_copy_parsed_once(tmp_path):
    """Batches are read back from the Arrow copy (Polars' collect_batches would buffer the whole file); the copy is
    written once and matches the direct scan row for row."""
    path = tmp_path / "big.csv"
    pl.DataFrame({"sku": [f"S{i}" for i in range(2_500)], "title": [f" t{i} " for i in range(2_500)]}).write_csv(path)
    with open_catalog(path) as source:
        direct = source.lazy().collect()
        batches = list(source.batches(700))
        staged_files = list(Path(source._workdir).glob("staged-*.arrow"))
        assert len(staged_files) == 1
        mtime = staged_files[0].stat().st_mtime_ns
        assert pl.concat(list(source.batches(1_000))).equals(direct)
        assert staged_files[0].stat().st_mtime_ns == mtime
    assert [b.height for b in batches] == [700, 700, 700, 400]
    assert pl.concat(batches).equals(direct)


def test_ragged_rows_surface_from_staging_and_the_tolerant_reader_restages(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("sku,price\nA,1\nB,2,surplus\nC,3\n", encoding="utf-8")
    with open_catalog(path) as source:
        with pytest.raises(RaggedRowsError):
            list(source.batches(10))
        source.use_tolerant_reader()
        rows = pl.concat(list(source.batches(10)))
    assert rows["sku"].to_list() == ["A", "B", "C"]
    assert rows["_read_error"].to_list()[1].startswith("row has 3 fields")


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.csv", b"", "file is empty"),
        ("blank.csv", b"\xef\xbb\xbf\r\n  \n", "file is empty"),
        ("garbage.csv", bytes(range(256)) * 8, "binary content"),
        ("nosku.csv", b"price,quantity\n1,2\n", "no SKU column"),
        ("doc.csv", b"%PDF-1.7\n...", "PDF"),
        ("fake.xlsx", b"sku,price\n", "not a valid xlsx"),
        ("fake.parquet", b"sku,price\n", "not a valid parquet"),
        ("broken.xlsx", b"PK\x03\x04garbage", "Excel"),
        ("dup.csv", b"sku,item_sku\nA,B\n", "ambiguous columns"),
        ("array.json", b'{"sku": 1', "no JSON objects"),
    ],
)
def test_unreadable_files_raise_one_clear_error(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CatalogReadError) as caught:
        read_catalog(path)
    assert caught.value.file == str(path)
    assert reason in caught.value.reason


def test_missing_file(tmp_path):
    with pytest.raises(CatalogReadError, match="file not found"):
        read_catalog(tmp_path / "nope.csv")


SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


@pytest.mark.parametrize("name", ["catalog_us.csv", "catalog_de.csv", "catalog_jp.xlsx", "catalog_mixed.parquet",
                                  "catalog_small.ndjson"])
def test_sample_catalogs_read_with_canonical_columns(name):
    expected = json.loads((SAMPLES / "expected.json").read_text(encoding="utf-8"))[name]
    frame = read_catalog(SAMPLES / name)
    non_blank = frame.filter(pl.any_horizontal(pl.all().exclude("row", READ_ERROR).is_not_null()))
    assert non_blank.height == expected["rows"]
    assert frame["row"][0] == expected["first_data_row"]
    assert {"sku", "product_type", "price", "item_name"} <= set(frame.columns)
    assert all(dtype == pl.String for name, dtype in frame.schema.items() if name != "row")
