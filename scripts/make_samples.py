"""Generate the sample catalogs in data/samples/ (deterministic: a fixed seed and fixed timestamps).

    python scripts/make_samples.py [--out data/samples]

Writes catalog_us.csv (comma, UTF-8), catalog_de.csv (semicolon, decimal commas, UTF-8 with BOM), catalog_jp.xlsx
(JPY, Japanese text), catalog_mixed.parquet (typed columns, several marketplaces), catalog_small.ndjson, and
expected.json: every deliberately bad row (file, row number as the readers count it, sku, defect, field, stage) and
every row that should only raise warnings. data/samples/README.md describes the same list for people.

Rows are built in canonical columns (schemas/column_aliases.json) and then written under seller spellings of the
headers (item_sku, seller-sku, standard_price, item-name, ...) to exercise header aliasing.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
from datetime import date, datetime
from pathlib import Path

import polars as pl
import xlsxwriter

SEED = 20261128
ROOT = Path(__file__).resolve().parent.parent
FIXED_TIME = datetime(2026, 11, 28, 12, 0, 0)

LANG = {"US": "en", "CA": "en", "UK": "en", "AE": "en", "DE": "de", "FR": "fr", "IT": "it", "ES": "es",
        "MX": "es", "JP": "ja", "SA": "ar"}
CURRENCY = {"US": "USD", "CA": "CAD", "MX": "MXN", "UK": "GBP", "DE": "EUR", "FR": "EUR", "IT": "EUR", "ES": "EUR",
            "JP": "JPY", "AE": "AED", "SA": "SAR"}
PRICE_FACTOR = {"USD": 1.0, "CAD": 1.35, "MXN": 17.0, "GBP": 0.8, "EUR": 0.92, "JPY": 150.0, "AED": 3.67,
                "SAR": 3.75}

COLORS = {
    "en": ["Navy", "Black", "Red", "Grey", "Green", "White"],
    "de": ["Marineblau", "Schwarz", "Rot", "Grau", "Grün", "Weiß"],
    "fr": ["Bleu marine", "Noir", "Rouge", "Gris", "Vert", "Blanc"],
    "it": ["Blu navy", "Nero", "Rosso", "Grigio", "Verde", "Bianco"],
    "es": ["Azul marino", "Negro", "Rojo", "Gris", "Verde", "Blanco"],
    "ja": ["ネイビー", "ブラック", "レッド", "グレー", "グリーン", "ホワイト"],
    "ar": ["كحلي", "أسود", "أحمر", "رمادي", "أخضر", "أبيض"],
}

# Per product type: materials and three bullets per language, a description sentence per language.
PT_TEXT = {
    "LUGGAGE": {
        "material": {"en": "Polycarbonate", "de": "Polycarbonat", "fr": "Polycarbonate", "it": "Policarbonato",
                     "es": "Policarbonato", "ja": "ポリカーボネート", "ar": "بولي كربونات"},
        "bullets": {
            "en": ["Four 360-degree spinner wheels", "TSA-approved combination lock", "Fits most airline cabin limits"],
            "de": ["Vier um 360 Grad drehbare Rollen", "TSA-Zahlenschloss", "Passt in die meisten Gepäckfächer"],
            "fr": ["Quatre roues pivotantes à 360 degrés", "Serrure TSA à combinaison", "Format cabine"],
            "it": ["Quattro ruote girevoli a 360 gradi", "Lucchetto TSA a combinazione", "Misura bagaglio a mano"],
            "es": ["Cuatro ruedas giratorias de 360 grados", "Candado TSA de combinación", "Tamaño de cabina"],
            "ja": ["360度回転する4輪キャスター", "TSAロック搭載", "機内持ち込み可能サイズ"],
            "ar": ["أربع عجلات دوارة 360 درجة", "قفل TSA برقم سري", "مناسبة لمقصورة الطائرة"],
        },
        "desc": {"en": "Lightweight hardside suitcase with a telescoping handle.",
                 "de": "Leichter Hartschalenkoffer mit Teleskopgriff, ideal für Städtereisen.",
                 "fr": "Valise rigide légère avec poignée télescopique.",
                 "it": "Valigia rigida leggera con maniglia telescopica.",
                 "es": "Maleta rígida ligera con asa telescópica.",
                 "ja": "伸縮ハンドル付きの軽量ハードケースです。",
                 "ar": "حقيبة سفر صلبة وخفيفة مع مقبض قابل للسحب."},
    },
    "SHIRT": {
        "material": {"en": "100% Cotton", "de": "100% Baumwolle", "fr": "100% coton", "it": "100% cotone",
                     "es": "100% algodón", "ja": "綿100%", "ar": "قطن 100%"},
        "bullets": {
            "en": ["Breathable Oxford weave", "Button-down collar", "Machine wash cold"],
            "de": ["Atmungsaktives Oxford-Gewebe", "Button-down-Kragen", "Maschinenwäsche bei 30 Grad"],
            "fr": ["Tissage Oxford respirant", "Col boutonné", "Lavable en machine"],
            "it": ["Tessuto Oxford traspirante", "Colletto button-down", "Lavabile in lavatrice"],
            "es": ["Tejido Oxford transpirable", "Cuello abotonado", "Lavable a máquina"],
            "ja": ["通気性の良いオックスフォード生地", "ボタンダウンカラー", "洗濯機で洗えます"],
            "ar": ["نسيج أكسفورد جيد التهوية", "ياقة بأزرار", "قابل للغسل في الغسالة"],
        },
        "desc": {"en": "Classic shirt cut from soft cotton for everyday wear.",
                 "de": "Klassisches Hemd aus weicher Baumwolle für jeden Tag.",
                 "fr": "Chemise classique en coton doux pour tous les jours.",
                 "it": "Camicia classica in morbido cotone per tutti i giorni.",
                 "es": "Camisa clásica de algodón suave para el día a día.",
                 "ja": "毎日着られる柔らかいコットンのシャツです。",
                 "ar": "قميص كلاسيكي من القطن الناعم للاستخدام اليومي."},
    },
    "SHOES": {
        "material": {"en": "Leather", "de": "Leder", "fr": "Cuir", "it": "Pelle", "es": "Piel", "ja": "レザー",
                     "ar": "جلد"},
        "bullets": {
            "en": ["Cushioned footbed", "Rubber outsole with deep lugs", "Padded collar"],
            "de": ["Gepolstertes Fußbett", "Gummilaufsohle mit tiefem Profil", "Gepolsterter Schaftrand"],
            "fr": ["Semelle intérieure rembourrée", "Semelle extérieure en caoutchouc", "Col rembourré"],
            "it": ["Plantare imbottito", "Suola in gomma", "Collo imbottito"],
            "es": ["Plantilla acolchada", "Suela de goma", "Cuello acolchado"],
            "ja": ["クッション性の高いインソール", "グリップ力のあるラバーソール", "足首のパッド入り"],
            "ar": ["نعل داخلي مبطن", "نعل خارجي من المطاط", "حافة مبطنة"],
        },
        "desc": {"en": "Comfortable shoe for long days on your feet.",
                 "de": "Bequemer Schuh für lange Tage auf den Füßen.",
                 "fr": "Chaussure confortable pour les longues journées.",
                 "it": "Scarpa comoda per le lunghe giornate.",
                 "es": "Zapato cómodo para jornadas largas.",
                 "ja": "長時間でも快適に履ける靴です。",
                 "ar": "حذاء مريح للأيام الطويلة."},
    },
    "HOME": {
        "material": {"en": "Ceramic", "de": "Keramik", "fr": "Céramique", "it": "Ceramica", "es": "Cerámica",
                     "ja": "セラミック", "ar": "سيراميك"},
        "bullets": {
            "en": ["Hand-glazed finish", "Felt pads protect surfaces", "Gift box included"],
            "de": ["Handglasierte Oberfläche", "Filzgleiter schützen Möbel", "In Geschenkbox"],
            "fr": ["Finition émaillée à la main", "Patins en feutre", "Livré en boîte cadeau"],
            "it": ["Smaltato a mano", "Feltrini protettivi", "Confezione regalo inclusa"],
            "es": ["Acabado esmaltado a mano", "Almohadillas de fieltro", "Caja de regalo incluida"],
            "ja": ["手作業による釉薬仕上げ", "家具を守るフェルト付き", "ギフトボックス入り"],
            "ar": ["لمسة نهائية مزججة يدويًا", "وسادات لباد لحماية الأسطح", "علبة هدايا مرفقة"],
        },
        "desc": {"en": "Decorative piece that brings warmth to any room.",
                 "de": "Dekoratives Stück, das jedem Raum Wärme verleiht.",
                 "fr": "Objet décoratif qui réchauffe chaque pièce.",
                 "it": "Oggetto decorativo che scalda ogni stanza.",
                 "es": "Pieza decorativa que da calidez a cualquier estancia.",
                 "ja": "どんな部屋にも温かみを添えるインテリア雑貨です。",
                 "ar": "قطعة ديكور تضفي الدفء على أي غرفة."},
    },
    "TOY": {
        "material": {"en": "Beech wood", "de": "Buchenholz", "fr": "Bois de hêtre", "it": "Legno di faggio",
                     "es": "Madera de haya", "ja": "ブナ材", "ar": "خشب الزان"},
        "bullets": {
            "en": ["Smooth rounded edges", "Water-based paints", "Storage bag included"],
            "de": ["Glatte, abgerundete Kanten", "Farben auf Wasserbasis", "Mit Aufbewahrungsbeutel"],
            "fr": ["Bords arrondis et lisses", "Peintures à base d'eau", "Sac de rangement inclus"],
            "it": ["Bordi arrotondati", "Vernici ad acqua", "Sacchetto incluso"],
            "es": ["Bordes redondeados", "Pinturas al agua", "Bolsa de almacenaje incluida"],
            "ja": ["角を丸く仕上げています", "水性塗料を使用", "収納袋付き"],
            "ar": ["حواف ناعمة ومستديرة", "دهانات مائية", "حقيبة تخزين مرفقة"],
        },
        "desc": {"en": "Open-ended play set that grows with your child.",
                 "de": "Vielseitiges Spielset, das mit Ihrem Kind mitwächst.",
                 "fr": "Jeu ouvert qui grandit avec votre enfant.",
                 "it": "Set di gioco che cresce con il tuo bambino.",
                 "es": "Juego abierto que crece con tu hijo.",
                 "ja": "お子さまの成長に合わせて遊べるセットです。",
                 "ar": "مجموعة لعب تنمو مع طفلك."},
    },
    "PRODUCT": {
        "material": {"en": "Stainless steel", "de": "Edelstahl", "fr": "Acier inoxydable", "it": "Acciaio inox",
                     "es": "Acero inoxidable", "ja": "ステンレス", "ar": "فولاذ مقاوم للصدأ"},
        "bullets": {
            "en": ["Double-wall vacuum insulation", "Leak-proof lid", "Fits standard cup holders"],
            "de": ["Doppelwandige Vakuumisolierung", "Auslaufsicherer Deckel", "Passt in Getränkehalter"],
            "fr": ["Double paroi isolée sous vide", "Couvercle étanche", "Compatible porte-gobelet"],
            "it": ["Doppia parete isolata", "Tappo a tenuta stagna", "Adatta ai portabicchieri"],
            "es": ["Doble pared aislada al vacío", "Tapa antigoteo", "Cabe en portavasos"],
            "ja": ["真空断熱の二重構造", "漏れにくいフタ", "ドリンクホルダーに収まるサイズ"],
            "ar": ["عزل مزدوج الجدار", "غطاء مانع للتسرب", "يناسب حوامل الأكواب"],
        },
        "desc": {"en": "Keeps drinks cold for 24 hours and hot for 12.",
                 "de": "Hält Getränke 24 Stunden kalt und 12 Stunden heiß.",
                 "fr": "Garde les boissons froides 24 heures et chaudes 12 heures.",
                 "it": "Mantiene le bevande fredde per 24 ore e calde per 12.",
                 "es": "Mantiene las bebidas frías 24 horas y calientes 12.",
                 "ja": "冷たい飲み物は24時間、温かい飲み物は12時間キープします。",
                 "ar": "يحافظ على برودة المشروبات 24 ساعة وسخونتها 12 ساعة."},
    },
}

# Product models: title per language, base USD price, product-type specific canonical columns.
MODELS = [
    {"pt": "LUGGAGE", "brand": "Voyagio", "usd": 129.99, "origin": "CN", "model": "VG-SP55",
     "name": {"en": "Hardside Carry-On Spinner Suitcase 55 cm", "de": "Hartschalen-Handgepäckkoffer 55 cm mit 4 Rollen",
              "fr": "Valise cabine rigide 55 cm à 4 roues", "it": "Trolley bagaglio a mano rigido 55 cm",
              "es": "Maleta de cabina rígida 55 cm con 4 ruedas", "ja": "ハードキャリーケース 機内持ち込み 55cm 4輪",
              "ar": "حقيبة سفر صلبة للمقصورة 55 سم بأربع عجلات"},
     "extra": {"capacity": 38, "number_of_wheels": 4, "wheel_type": "spinner", "is_expandable": "no",
               "lock_type": "tsa_lock", "shell_type": "hard"},
     "package": (58, 40, 25, 3.4)},
    {"pt": "LUGGAGE", "brand": "Nordkoffer", "usd": 189.0, "origin": "DE", "model": "NK-EX68",
     "name": {"en": "Expandable Softside Checked Suitcase 68 cm", "de": "Erweiterbarer Weichschalenkoffer 68 cm für Reisegepäck",
              "fr": "Valise souple extensible 68 cm", "it": "Valigia morbida espandibile 68 cm",
              "es": "Maleta blanda expandible 68 cm", "ja": "拡張機能付き ソフトスーツケース 68cm",
              "ar": "حقيبة سفر ناعمة قابلة للتوسيع 68 سم"},
     "extra": {"capacity": 75, "number_of_wheels": 4, "wheel_type": "spinner", "is_expandable": "yes",
               "expanded_capacity": 88, "lock_type": "combination_lock", "shell_type": "soft"},
     "package": (70, 46, 30, 4.1)},
    {"pt": "LUGGAGE", "brand": "TrekLite", "usd": 59.5, "origin": "VN", "model": "TL-US40",
     "name": {"en": "Underseat Cabin Bag 40 x 20 x 25 cm", "de": "Unterflug-Kabinentasche 40 x 20 x 25 cm",
              "fr": "Bagage sous siège 40 x 20 x 25 cm", "it": "Borsa da cabina sottosedile 40 x 20 x 25 cm",
              "es": "Bolsa de cabina bajo asiento 40 x 20 x 25 cm", "ja": "機内持ち込み アンダーシートバッグ 40x20x25cm",
              "ar": "حقيبة مقصورة أسفل المقعد 40 × 20 × 25 سم"},
     "extra": {"capacity": 20, "number_of_wheels": 0, "is_expandable": "no", "lock_type": "no_lock",
               "shell_type": "soft"},
     "package": (42, 26, 12, 0.9)},
    {"pt": "SHIRT", "brand": "Fairloom", "usd": 39.9, "origin": "PT", "model": "FL-OX1",
     "name": {"en": "Men's Oxford Button-Down Shirt, Slim Fit", "de": "Herren Oxford-Hemd mit Button-down-Kragen, Slim Fit",
              "fr": "Chemise Oxford homme col boutonné, coupe ajustée", "it": "Camicia Oxford uomo button-down, slim fit",
              "es": "Camisa Oxford de hombre con cuello abotonado, corte entallado", "ja": "メンズ オックスフォード ボタンダウンシャツ スリム",
              "ar": "قميص أكسفورد رجالي بياقة بأزرار، قصة ضيقة"},
     "extra": {"department": "mens", "fit_type": "slim_fit", "sleeve_type": "long_sleeve",
               "collar_style": "button_down"},
     "sizes": ["S", "M", "L", "XL"], "package": (30, 25, 4, 0.35)},
    {"pt": "SHIRT", "brand": "Harbor & Pine", "usd": 34.0, "origin": "IN", "model": "HP-LB2",
     "name": {"en": "Women's Linen Blend Blouse, Relaxed Fit", "de": "Damen Bluse aus Leinenmischung, lockere Passform",
              "fr": "Blouse femme en lin mélangé, coupe ample", "it": "Blusa donna in misto lino, vestibilità comoda",
              "es": "Blusa de mujer de mezcla de lino, corte holgado", "ja": "レディース リネン混 ブラウス ゆったりシルエット",
              "ar": "بلوزة نسائية من مزيج الكتان، قصة واسعة"},
     "extra": {"department": "womens", "fit_type": "relaxed_fit", "sleeve_type": "three_quarter_sleeve",
               "collar_style": "band"},
     "sizes": ["XS", "S", "M", "L"], "package": (30, 25, 4, 0.3)},
    {"pt": "SHIRT", "brand": "Fairloom", "usd": 19.99, "origin": "BD", "model": "FL-KP3",
     "name": {"en": "Kids' Cotton Polo Shirt, Short Sleeve", "de": "Kinder Poloshirt aus Baumwolle, kurzärmelig",
              "fr": "Polo enfant en coton, manches courtes", "it": "Polo bambino in cotone, maniche corte",
              "es": "Polo infantil de algodón, manga corta", "ja": "キッズ コットン ポロシャツ 半袖",
              "ar": "قميص بولو قطني للأطفال بأكمام قصيرة"},
     "extra": {"department": "unisex_kids", "age_range_description": "Kid", "fit_type": "regular_fit",
               "sleeve_type": "short_sleeve", "collar_style": "polo"},
     "sizes": ["XS", "S", "M"], "package": (25, 20, 3, 0.2)},
    {"pt": "SHOES", "brand": "Stridewell", "usd": 89.95, "origin": "VN", "model": "SW-TR9",
     "name": {"en": "Men's Trail Running Shoe, Waterproof", "de": "Herren Trailrunning-Schuh, wasserdicht",
              "fr": "Chaussure de trail homme, imperméable", "it": "Scarpa da trail running uomo, impermeabile",
              "es": "Zapatilla de trail running para hombre, impermeable", "ja": "メンズ トレイルランニングシューズ 防水",
              "ar": "حذاء جري رجالي للمسارات، مقاوم للماء"},
     "extra": {"department": "mens", "closure_type": "lace_up", "heel_type": "flat"},
     "shoe_sizes": {"US": ["8", "9", "9.5", "10.5"], "EU": ["41", "42", "43", "44"], "JP": ["26", "26.5", "27", "28"]},
     "package": (33, 22, 13, 1.1)},
    {"pt": "SHOES", "brand": "Alpenlauf", "usd": 129.0, "origin": "IT", "model": "AL-CB2",
     "name": {"en": "Women's Leather Chelsea Boot", "de": "Damen Chelsea Boots aus Glattleder",
              "fr": "Bottines Chelsea femme en cuir", "it": "Stivaletti Chelsea donna in pelle",
              "es": "Botines Chelsea de piel para mujer", "ja": "レディース 本革 サイドゴアブーツ",
              "ar": "حذاء تشيلسي نسائي من الجلد"},
     "extra": {"department": "womens", "closure_type": "pull_on", "heel_type": "block", "heel_height": 4},
     "shoe_sizes": {"US": ["6", "7", "7.5", "8"], "EU": ["37", "38", "39", "40"], "JP": ["23", "23.5", "24", "25"]},
     "package": (32, 22, 12, 1.3)},
    {"pt": "SHOES", "brand": "Stridewell", "usd": 44.99, "origin": "CN", "model": "SW-KV1",
     "name": {"en": "Kids' Hook and Loop Sneaker", "de": "Kinder Sneaker mit Klettverschluss",
              "fr": "Baskets enfant à scratch", "it": "Sneaker bambino con strappo",
              "es": "Zapatillas infantiles con velcro", "ja": "キッズ 面ファスナー スニーカー",
              "ar": "حذاء رياضي للأطفال بشريط لاصق"},
     "extra": {"department": "unisex_kids", "age_range_description": "Kid", "closure_type": "hook_and_loop",
               "heel_type": "flat"},
     "shoe_sizes": {"US": ["11", "12", "13", "1"], "EU": ["28", "29", "30", "31"], "JP": ["17", "18", "19", "20"]},
     "package": (24, 16, 10, 0.6)},
    {"pt": "HOME", "brand": "Lumen & Oak", "usd": 64.0, "origin": "PT", "model": "LO-TL1",
     "name": {"en": "Ceramic Table Lamp with Linen Shade", "de": "Keramik-Tischleuchte mit Leinenschirm",
              "fr": "Lampe de table en céramique avec abat-jour en lin", "it": "Lampada da tavolo in ceramica con paralume in lino",
              "es": "Lámpara de mesa de cerámica con pantalla de lino", "ja": "セラミック テーブルランプ リネンシェード付き",
              "ar": "مصباح طاولة من السيراميك مع غطاء من الكتان"},
     "extra": {"room_type": "living_room", "is_assembly_required": "yes",
               "assembly_instructions": "Screw the shade onto the base."},
     "package": (35, 35, 45, 2.6)},
    {"pt": "HOME", "brand": "Casa Nova", "usd": 24.5, "origin": "TR", "model": "CN-WC30",
     "name": {"en": "Silent Wall Clock 30 cm, Ceramic Frame", "de": "Lautlose Wanduhr 30 cm mit Keramikrahmen",
              "fr": "Horloge murale silencieuse 30 cm, cadre en céramique", "it": "Orologio da parete silenzioso 30 cm",
              "es": "Reloj de pared silencioso 30 cm", "ja": "静音 掛け時計 30cm セラミックフレーム",
              "ar": "ساعة حائط صامتة 30 سم بإطار سيراميك"},
     "extra": {"room_type": "office", "is_assembly_required": "no"},
     "battery": ("aa", 1), "package": (33, 33, 6, 0.9)},
    {"pt": "HOME", "brand": "Casa Nova", "usd": 18.0, "origin": "IN", "model": "CN-VS2",
     "name": {"en": "Hand-Glazed Ceramic Vase 25 cm", "de": "Handglasierte Keramikvase 25 cm",
              "fr": "Vase en céramique émaillé à la main 25 cm", "it": "Vaso in ceramica smaltato a mano 25 cm",
              "es": "Jarrón de cerámica esmaltado a mano 25 cm", "ja": "手作り釉薬 セラミック 花瓶 25cm",
              "ar": "مزهرية سيراميك مزججة يدويًا 25 سم"},
     "extra": {"room_type": "dining_room", "is_assembly_required": "no"},
     "package": (18, 18, 28, 1.2)},
    {"pt": "TOY", "brand": "Blockwerk", "usd": 49.99, "origin": "DE", "model": "BW-TR40",
     "name": {"en": "Wooden Train Set with 40 Pieces", "de": "Holzeisenbahn-Set mit 40 Teilen",
              "fr": "Circuit de train en bois 40 pièces", "it": "Trenino in legno con 40 pezzi",
              "es": "Tren de madera con 40 piezas", "ja": "木製 汽車セット 40ピース",
              "ar": "مجموعة قطار خشبي من 40 قطعة"},
     "extra": {"age_range_description": "Kid", "manufacturer_minimum_age": 36,
               "safety_warning": "choking_hazard_small_parts", "is_assembly_required": "yes",
               "assembly_instructions": "Connect the track pieces as shown.", "number_of_pieces": 40},
     "package": (45, 30, 10, 2.2)},
    {"pt": "TOY", "brand": "Tiny Tinkers", "usd": 39.0, "origin": "CN", "model": "TT-RC16",
     "name": {"en": "Remote Control Off-Road Car 1:16", "de": "Ferngesteuertes Geländeauto im Maßstab 1:16",
              "fr": "Voiture tout-terrain télécommandée 1:16", "it": "Auto fuoristrada radiocomandata 1:16",
              "es": "Coche todoterreno teledirigido 1:16", "ja": "ラジコン オフロードカー 1/16スケール",
              "ar": "سيارة دفع رباعي بالتحكم عن بعد بمقياس 1:16"},
     "extra": {"age_range_description": "Kid", "manufacturer_minimum_age": 96,
               "safety_warning": "no_warning_applicable", "is_assembly_required": "no"},
     "battery": ("aa", 4), "package": (35, 20, 18, 1.0)},
    {"pt": "TOY", "brand": "Blockwerk", "usd": 29.95, "origin": "PL", "model": "BW-MT60",
     "name": {"en": "Magnetic Building Tiles, 60 Pieces", "de": "Magnetische Bausteine, 60 Teile",
              "fr": "Tuiles de construction magnétiques, 60 pièces", "it": "Tessere magnetiche da costruzione, 60 pezzi",
              "es": "Bloques magnéticos de construcción, 60 piezas", "ja": "マグネットブロック 60ピース",
              "ar": "بلاط بناء مغناطيسي من 60 قطعة"},
     "extra": {"age_range_description": "Kid", "manufacturer_minimum_age": 36, "safety_warning": "contains_magnets",
               "is_assembly_required": "no", "number_of_pieces": 60},
     "package": (30, 30, 8, 1.4)},
    {"pt": "PRODUCT", "brand": "Hydrovo", "usd": 27.99, "origin": "CN", "model": "HV-750",
     "name": {"en": "Insulated Stainless Steel Water Bottle 750 ml", "de": "Isolierte Trinkflasche aus Edelstahl 750 ml",
              "fr": "Gourde isotherme en acier inoxydable 750 ml", "it": "Borraccia termica in acciaio inox 750 ml",
              "es": "Botella térmica de acero inoxidable 750 ml", "ja": "真空断熱 ステンレスボトル 750ml",
              "ar": "زجاجة ماء معزولة من الفولاذ المقاوم للصدأ 750 مل"},
     "extra": {"item_type_keyword": "water-bottles"}, "package": (28, 9, 9, 0.45)},
    {"pt": "PRODUCT", "brand": "Hydrovo", "usd": 15.49, "origin": "CN", "model": "HV-CUP",
     "name": {"en": "Stainless Steel Travel Mug 350 ml with Lid", "de": "Edelstahl-Thermobecher 350 ml mit Deckel",
              "fr": "Mug de voyage en acier inoxydable 350 ml avec couvercle", "it": "Tazza da viaggio in acciaio 350 ml",
              "es": "Taza de viaje de acero inoxidable 350 ml", "ja": "ステンレス トラベルマグ 350ml フタ付き",
              "ar": "كوب سفر من الفولاذ المقاوم للصدأ 350 مل مع غطاء"},
     "extra": {"item_type_keyword": "travel-mugs"}, "package": (12, 10, 17, 0.3)},
]

ASINS = ["B0CXYZ1234", "B09ABCD567", "B07QWERTY8"]


def ean13(rng: random.Random, prefix: str) -> str:
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(12 - len(prefix)))
    return body + gtin_check_digit(body)


def upc12(rng: random.Random) -> str:
    body = "0" + "".join(str(rng.randrange(10)) for _ in range(10))
    return body + gtin_check_digit(body)


def gtin_check_digit(body: str) -> str:
    """GS1 check digit: weights 3,1,3,... from the right of the body."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def money(usd: float, currency: str) -> float:
    value = usd * PRICE_FACTOR[currency]
    if currency == "JPY":
        return float(int(round(value / 100.0)) * 100 - 20) if value > 1000 else float(int(round(value)))
    return round(int(value) + 0.99, 2) if value > 10 else round(value, 2)


class Builder:
    """Builds good canonical rows for one file; SKUs stay unique within the builder."""

    def __init__(self, rng: random.Random, prefix: str) -> None:
        self.rng = rng
        self.prefix = prefix
        self.count = 0

    def row(self, model: dict, country: str, *, variant: int = 0, marketplace_value: str | None = None) -> dict:
        rng = self.rng
        lang = LANG[country]
        currency = CURRENCY[country]
        text = PT_TEXT[model["pt"]]
        self.count += 1
        color = COLORS[lang][(variant + self.count) % len(COLORS[lang])]
        sku = f"{self.prefix}-{model['model']}-{self.count:04d}"
        price = money(model["usd"], currency)
        row = {
            "sku": sku,
            "product_type": model["pt"],
            "marketplace": marketplace_value or country,
            "item_name": f"{model['brand']} {model['name'][lang]}, {color}",
            "brand": model["brand"],
            "product_description": f"{model['brand']}: {text['desc'][lang]}",
            "bullet_point_1": text["bullets"][lang][0],
            "bullet_point_2": text["bullets"][lang][1],
            "bullet_point_3": text["bullets"][lang][2],
            "external_product_id": upc12(rng) if country in ("US", "CA") and rng.random() < 0.5
            else ean13(rng, "45" if country == "JP" else "40"),
            "condition_type": "new_new",
            "list_price": None,
            "price": price,
            "currency": currency if rng.random() < 0.8 else None,
            "sale_price": None,
            "sale_start_date": None,
            "sale_end_date": None,
            "business_price": None,
            "minimum_seller_allowed_price": None,
            "maximum_seller_allowed_price": None,
            "quantity": rng.randrange(0, 250),
            "fulfillment_channel": "MFN",
            "handling_time": rng.choice([1, 2, 2, 3, 5]),
            "restock_date": None,
            "color": color,
            "size": None,
            "material": text["material"][lang],
            "country_of_origin": model["origin"],
            "batteries_required": "no",
            "battery_type": None,
            "number_of_batteries": None,
            "item_package_length": float(model["package"][0]),
            "item_package_width": float(model["package"][1]),
            "item_package_height": float(model["package"][2]),
            "item_package_weight": model["package"][3],
            "main_image_url": f"https://images.example.com/{model['brand'].lower().replace(' & ', '-')}/"
                              f"{model['model'].lower()}-{self.count}.jpg",
            "model_number": model["model"],
            "manufacturer": model["brand"],
        }
        row["external_product_id_type"] = "UPC" if len(row["external_product_id"]) == 12 else "EAN"
        row.update(model["extra"])
        if "sizes" in model:
            row["size"] = model["sizes"][variant % len(model["sizes"])]
        if "shoe_sizes" in model:
            system = "US" if country in ("US", "CA", "MX") else "JP" if country == "JP" else "EU"
            row["shoe_size"] = model["shoe_sizes"][system][variant % 4]
        if "battery" in model:
            row["batteries_required"] = "yes"
            row["battery_type"], row["number_of_batteries"] = model["battery"][0].upper(), model["battery"][1]
        roll = rng.random()
        if roll < 0.15:
            row["list_price"] = money(model["usd"] * 1.25, currency)
        if 0.15 <= roll < 0.25:
            row["sale_price"] = money(model["usd"] * 0.8, currency)
            row["sale_start_date"], row["sale_end_date"] = "2026-12-01", "2026-12-24"
        if 0.25 <= roll < 0.32:
            row["minimum_seller_allowed_price"] = money(model["usd"] * 0.7, currency)
            row["maximum_seller_allowed_price"] = money(model["usd"] * 1.5, currency)
        if 0.32 <= roll < 0.38:
            row["business_price"] = money(model["usd"] * 0.9, currency)
        if rng.random() < 0.12:
            region = {"US": "AMAZON_NA", "CA": "AMAZON_NA", "MX": "AMAZON_NA", "JP": "AMAZON_FE"}.get(country, "AMAZON_EU")
            row["fulfillment_channel"] = rng.choice(["FBA", region])
            row["quantity"] = None
            row["handling_time"] = None
        elif row["quantity"] == 0 and rng.random() < 0.5:
            row["restock_date"] = "2027-01-15"
        return row


def good_rows(builder: Builder, countries: list[str], n: int, *, marketplace_values: dict | None = None) -> list[dict]:
    rows = []
    for i in range(n):
        model = MODELS[i % len(MODELS)]
        country = countries[i % len(countries)]
        value = (marketplace_values or {}).get(country) if i % 5 == 0 else None
        rows.append(builder.row(model, country, variant=i // len(MODELS), marketplace_value=value))
    return rows


# ---------------------------------------------------------------- deliberate defects

def defect(rows: list[dict], index: int, name: str, field: str, stage: str, why: str, change: dict,
           severity: str = "error") -> None:
    row = rows[index]
    row.update(change)
    row["_defect"] = {"defect": name, "field": field, "stage": stage, "why": why, "severity": severity}


def duplicate(rows: list[dict], source: int, target: int) -> None:
    rows[target]["sku"] = rows[source]["sku"]
    rows[target]["marketplace"] = rows[source]["marketplace"]
    for index in (source, target):
        rows[index]["_defect"] = {"defect": "duplicate_sku", "field": "sku", "stage": "duplicates",
                                  "why": f"SKU {rows[source]['sku']} appears twice for the same marketplace "
                                         "(both rows are reported)", "severity": "error"}


def us_rows(rng: random.Random) -> list[dict]:
    b = Builder(rng, "US")
    rows = good_rows(b, ["US", "US", "US", "US", "US", "US", "US", "CA"], 132)
    defect(rows, 4, "missing_brand", "brand", "row_schema", "brand is required for a LISTING", {"brand": None})
    defect(rows, 9, "negative_price", "price", "row_schema", "price must be > 0", {"price": -12.5})
    defect(rows, 15, "price_three_decimals", "price", "row_schema", "prices have at most 2 decimals (19.999)",
           {"price": 19.999})
    defect(rows, 21, "bad_ean_check_digit", "external_product_id", "row_schema",
           "EAN 4006381333932 has a wrong check digit (should end in 1)",
           {"external_product_id": "4006381333932", "external_product_id_type": "EAN"})
    defect(rows, 27, "sku_too_long", "sku", "row_schema", "SKU longer than 40 characters",
           {"sku": "US-VOYAGIO-HARDSIDE-CARRY-ON-SPINNER-55CM-NAVY-0028"})
    duplicate(rows, 33, 34)
    defect(rows, 40, "unknown_condition", "condition_type", "row_schema", "'brand_new' is not an Amazon condition",
           {"condition_type": "brand_new"})
    defect(rows, 46, "negative_quantity", "quantity", "row_schema", "quantity must be an integer >= 0",
           {"quantity": -1, "fulfillment_channel": "MFN", "handling_time": 2})
    defect(rows, 52, "promotional_title", "item_name", "content_policy",
           "title contains the promotional phrase 'Best Seller'",
           {"item_name": rows[52]["item_name"] + " - Best Seller"})
    defect(rows, 58, "html_description", "product_description", "content_policy", "HTML tags in the description",
           {"product_description": "<p>Great value.</p><br><b>Ships fast</b>"})
    defect(rows, 64, "fba_with_quantity", "quantity", "row_schema",
           "an FBA (AMAZON_NA) SKU must not carry a merchant quantity",
           {"fulfillment_channel": "FBA", "quantity": 25, "handling_time": None})
    battery_row = next(i for i in range(70, 132) if rows[i]["batteries_required"] == "yes")
    defect(rows, battery_row, "battery_missing_type", "battery_type", "product_type",
           "batteries_required is yes but battery_type is empty (num_batteries.type required)",
           {"battery_type": None})
    defect(rows, 88, "wrong_currency", "currency", "row_schema", "EUR is not the currency of the US marketplace",
           {"currency": "EUR", "marketplace": "US"})
    defect(rows, 94, "prohibited_claim", "bullet_point_2", "content_policy",
           "bullet claims 'antibacterial' (pesticide claim)", {"bullet_point_2": "Antibacterial coating"})
    defect(rows, 100, "repeated_words", "item_name", "content_policy", "title repeats 'bottle' three times",
           {"item_name": "Hydrovo Bottle Water Bottle Sports Bottle 750 ml"})
    defect(rows, 106, "missing_title", "item_name", "row_schema", "item_name is required for a LISTING",
           {"item_name": None})
    defect(rows, 112, "all_caps_title", "item_name", "content_policy", "title in capital letters (warning only)",
           {"item_name": rows[112]["item_name"].upper()}, severity="warning")
    defect(rows, 118, "promotional_bullet", "bullet_point_3", "content_policy",
           "bullet mentions 'free shipping' (warning only)",
           {"bullet_point_3": "Order now and get free shipping"}, severity="warning")
    return rows


def de_rows(rng: random.Random) -> list[dict]:
    b = Builder(rng, "DE")
    rows = good_rows(b, ["DE", "DE", "DE", "FR", "DE", "IT", "DE", "ES"], 84,
                     marketplace_values={"DE": "A1PA6795UKMFR9"})
    for row in rows:
        if row["batteries_required"] == "no":
            row["batteries_required"] = "Nein"
        elif row["batteries_required"] == "yes":
            row["batteries_required"] = "Ja"
        if row["fulfillment_channel"] == "FBA":
            row["fulfillment_channel"] = "AFN"
    rows[7]["item_name"] = "Lumen & Oak Café-Tischleuchte aus Keramik, Weiß"
    defect(rows, 3, "wrong_currency", "currency", "row_schema", "USD is not the currency of the FR marketplace",
           {"currency": "USD"})
    defect(rows, 10, "price_three_decimals", "price", "row_schema", "EUR prices have at most 2 decimals (12,345)",
           {"price": 12.345})
    defect(rows, 17, "bad_ean_check_digit", "external_product_id", "row_schema",
           "EAN 4012345678902 has a wrong check digit (should end in 1)",
           {"external_product_id": "4012345678902", "external_product_id_type": "EAN"})
    defect(rows, 24, "prohibited_claim", "product_description", "content_policy",
           "description claims 'umweltfreundlich' (environmental claim)",
           {"product_description": "Umweltfreundlich hergestellt und langlebig."})
    defect(rows, 31, "html_description", "product_description", "content_policy", "HTML tags in the description",
           {"product_description": "<ul><li>Robust</li><li>Leicht</li></ul>"})
    defect(rows, 38, "negative_quantity", "quantity", "row_schema", "quantity must be an integer >= 0",
           {"quantity": -1, "fulfillment_channel": "MFN", "handling_time": 2})
    duplicate(rows, 44, 45)
    defect(rows, 52, "unknown_product_type", "product_type", "product_type",
           "GADGET is not a known product type", {"product_type": "GADGET"})
    defect(rows, 60, "missing_brand", "brand", "row_schema", "brand is required for a LISTING", {"brand": ""})
    return rows


def jp_rows(rng: random.Random) -> list[dict]:
    b = Builder(rng, "JP")
    rows = good_rows(b, ["JP"], 52)
    defect(rows, 2, "jpy_price_decimals", "price", "row_schema", "JPY prices have no decimals (1280.5)",
           {"price": 1280.5})
    defect(rows, 9, "wrong_currency", "currency", "row_schema", "USD is not the currency of the JP marketplace",
           {"currency": "USD"})
    defect(rows, 16, "emoji_title", "item_name", "content_policy", "emoji in the title",
           {"item_name": rows[16]["item_name"] + " \U0001F60D"})
    defect(rows, 23, "promotional_title", "item_name", "content_policy", "title contains '送料無料' (free shipping)",
           {"item_name": rows[23]["item_name"] + " 送料無料"})
    defect(rows, 30, "missing_brand", "brand", "row_schema", "brand is required for a LISTING", {"brand": None})
    return rows


def mixed_rows(rng: random.Random) -> list[dict]:
    b = Builder(rng, "MX")
    rows = good_rows(b, ["UK", "FR", "IT", "ES", "US", "MX", "AE", "DE", "JP", "SA"], 92)
    rows[1]["item_name"] = "Lumen & Oak Lampe de table céramique pour cafe\u0301, Blanc"
    defect(rows, 5, "sku_too_long", "sku", "row_schema", "SKU longer than 40 characters",
           {"sku": "MX-" + "X" * 45})
    defect(rows, 12, "negative_quantity", "quantity", "row_schema", "quantity must be an integer >= 0",
           {"quantity": -1, "fulfillment_channel": "MFN", "handling_time": 2})
    defect(rows, 24, "fba_with_quantity", "quantity", "row_schema",
           "an FBA (AMAZON_NA) SKU must not carry a merchant quantity",
           {"fulfillment_channel": "AMAZON_NA", "quantity": 10, "handling_time": None})
    battery_row = next(i for i in range(30, 92) if rows[i]["batteries_required"] == "yes")
    defect(rows, battery_row, "battery_missing_type", "battery_type", "product_type",
           "batteries_required is yes but battery_type is empty (num_batteries.type required)",
           {"battery_type": None})
    defect(rows, 41, "unknown_condition", "condition_type", "row_schema", "'mint' is not an Amazon condition",
           {"condition_type": "mint"})
    defect(rows, 50, "price_three_decimals", "price", "row_schema", "prices have at most 2 decimals",
           {"price": 45.125})
    defect(rows, 58, "bad_upc_length", "external_product_id", "row_schema", "UPC must have 12 digits (11 given)",
           {"external_product_id": "01234567890", "external_product_id_type": "UPC"})
    defect(rows, 66, "unknown_marketplace", "marketplace", "row_schema", "XX is not an Amazon marketplace",
           {"marketplace": "XX"})
    defect(rows, 74, "handling_time_too_long", "handling_time", "product_type",
           "handling time 45 days exceeds the maximum of 30",
           {"handling_time": 45, "fulfillment_channel": "MFN", "quantity": 3})
    return rows


def small_rows(rng: random.Random) -> list[dict]:
    b = Builder(rng, "SM")
    rows = good_rows(b, ["US", "DE", "UK"], 12)
    rows[0]["attributes_json"] = {"generic_keyword": [{"value": "carry on hardside spinner", "language_tag": "en_US",
                                                       "marketplace_id": "ATVPDKIKX0DER"}]}
    rows[1]["attributes_json"] = json.dumps({"generic_keyword": [{"value": "Trolley Handgepäck Hartschale",
                                                                  "language_tag": "de_DE",
                                                                  "marketplace_id": "A1PA6795UKMFR9"}]},
                                            ensure_ascii=False)
    rows[3]["merchant_suggested_asin"] = ASINS[0]
    rows[6]["operation"] = "delete"
    defect(rows, 4, "negative_price", "price", "row_schema", "price must be > 0", {"price": -5.0})
    defect(rows, 9, "missing_sku", "sku", "row_schema", "SKU is empty", {"sku": ""})
    return rows


# ---------------------------------------------------------------- writers

US_HEADERS = {"sku": "item_sku", "item_name": "item-name", "brand": "brand_name", "price": "standard_price",
              "minimum_seller_allowed_price": "min_price", "maximum_seller_allowed_price": "max_price",
              "handling_time": "fulfillment_latency", "color": "color_name", "size": "size_name",
              "material": "material_type", "batteries_required": "are_batteries_required",
              "bullet_point_1": "bullet_point1", "bullet_point_2": "bullet_point2", "bullet_point_3": "bullet_point3",
              "sale_start_date": "sale_from_date"}
DE_HEADERS = {"sku": "seller-sku", "product_type": "Product Type", "marketplace": "Marketplace", "item_name": "Title",
              "brand": "Brand", "product_description": "Description", "bullet_point_1": "Bullet Point 1",
              "bullet_point_2": "Bullet Point 2", "bullet_point_3": "Bullet Point 3", "price": "Price",
              "quantity": "Quantity", "currency": "Currency", "color": "Colour", "size": "Size", "material": "Material",
              "external_product_id": "EAN", "external_product_id_type": "Product ID Type",
              "condition_type": "Condition", "fulfillment_channel": "Fulfillment Channel",
              "handling_time": "Handling Time", "country_of_origin": "Country of Origin"}
MIXED_HEADERS = {"sku": "SKU", "item_name": "title", "price": "your_price", "quantity": "qty"}

NUMERIC = {"list_price", "price", "sale_price", "business_price", "minimum_seller_allowed_price",
           "maximum_seller_allowed_price", "item_package_weight", "item_package_length", "item_package_width",
           "item_package_height", "capacity", "expanded_capacity", "heel_height"}
INTEGER = {"quantity", "handling_time", "number_of_batteries", "number_of_wheels", "manufacturer_minimum_age",
           "number_of_pieces"}


def columns_of(rows: list[dict]) -> list[str]:
    cols: list[str] = []
    for row in rows:
        for key in row:
            if not key.startswith("_") and key not in cols:
                cols.append(key)
    return cols


def text_value(value, *, decimal_comma: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        text = f"{value:.3f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:.2f}"
        return text.replace(".", ",") if decimal_comma else text
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def write_csv(path: Path, rows: list[dict], headers: dict, *, delimiter: str, decimal_comma: bool, bom: bool) -> None:
    cols = columns_of(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow([headers.get(c, c) for c in cols])
    for row in rows:
        writer.writerow([text_value(row.get(c), decimal_comma=decimal_comma) for c in cols])
    path.write_bytes(("\ufeff" if bom else "").encode("utf-8") + buffer.getvalue().encode("utf-8"))


def write_xlsx(path: Path, rows: list[dict]) -> None:
    cols = columns_of(rows)
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    workbook.set_properties({"created": FIXED_TIME, "title": "JP sample catalog"})
    sheet = workbook.add_worksheet("Catalog")
    for c, name in enumerate(cols):
        sheet.write_string(0, c, name)
    for r, row in enumerate(rows, start=1):
        for c, name in enumerate(cols):
            value = row.get(name)
            if value is None:
                continue
            if isinstance(value, int | float) and not isinstance(value, bool):
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, text_value(value))
    workbook.close()


def typed_frame(rows: list[dict], headers: dict) -> pl.DataFrame:
    cols = columns_of(rows)
    data = {}
    for c in cols:
        values = [row.get(c) for row in rows]
        if c in NUMERIC:
            series = pl.Series(headers.get(c, c), [None if v is None else float(v) for v in values], pl.Float64)
        elif c in INTEGER:
            series = pl.Series(headers.get(c, c), values, pl.Int64)
        elif c in ("sale_start_date", "sale_end_date", "restock_date"):
            series = pl.Series(headers.get(c, c), [None if v is None else date.fromisoformat(v) for v in values],
                               pl.Date)
        else:
            series = pl.Series(headers.get(c, c), [None if v is None else text_value(v) for v in values], pl.String)
        data[series.name] = series
    return pl.DataFrame(data)


def write_ndjson(path: Path, rows: list[dict]) -> None:
    lines = []
    for row in rows:
        record = {k: v for k, v in row.items() if not k.startswith("_") and v is not None}
        lines.append(json.dumps(record, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


FILES = {
    "catalog_us.csv": (us_rows, 2),
    "catalog_de.csv": (de_rows, 2),
    "catalog_jp.xlsx": (jp_rows, 2),
    "catalog_mixed.parquet": (mixed_rows, 1),
    "catalog_small.ndjson": (small_rows, 1),
}


def build_all() -> dict[str, list[dict]]:
    rng = random.Random(SEED)
    return {name: builder(rng) for name, (builder, _) in FILES.items()}


def expected(all_rows: dict[str, list[dict]]) -> dict:
    out = {}
    for name, rows in all_rows.items():
        first = FILES[name][1]
        bad, warn = [], []
        for i, row in enumerate(rows):
            info = row.get("_defect")
            if info:
                entry = {"row": first + i, "sku": row["sku"], "marketplace": row["marketplace"], **info}
                (warn if info["severity"] == "warning" else bad).append(entry)
        out[name] = {"rows": len(rows), "first_data_row": first, "rejected": bad, "warnings": warn,
                     "valid_rows": len(rows) - len(bad)}
    return out


README_HEAD = """# Sample catalogs

Generated by `python scripts/make_samples.py` (seeded, deterministic; do not edit by hand — change the script and
re-run it). A test regenerates them and compares.

| File | Format | Marketplaces | Notes |
|---|---|---|---|
| `catalog_us.csv` | comma, UTF-8 | US, CA | seller headers: `item_sku`, `item-name`, `brand_name`, `standard_price`, `min_price`, `fulfillment_latency`, `color_name`, `are_batteries_required`, `bullet_point1`… |
| `catalog_de.csv` | semicolon, UTF-8 with BOM, decimal commas | DE (some rows by marketplace id `A1PA6795UKMFR9`), FR, IT, ES | headers `seller-sku`, `Title`, `Price`, `Quantity`, `EAN`, `Colour`…; umlauts; booleans `Ja`/`Nein`; FBA written `AFN` |
| `catalog_jp.xlsx` | Excel, sheet `Catalog` | JP | JPY integer prices, Japanese text, numbers stored as numbers |
| `catalog_mixed.parquet` | Parquet, typed columns (Float64 prices, Int64 quantities, Date sale/restock dates) | UK, FR, IT, ES, US, MX, AE, DE, JP, SA | headers `SKU`, `title`, `your_price`, `qty`; Arabic (right-to-left) rows for SA, a combining accent (`cafe\\u0301`) |
| `catalog_small.ndjson` | JSON lines | US, DE, UK | `attributes_json` as a nested object (row 1) and as a JSON string (row 2); a `merchant_suggested_asin`; an `operation: delete` row |
| `expected.json` | machine-readable list of the rows below | | per file: `rows`, `first_data_row`, `valid_rows`, `rejected[]`, `warnings[]` |

All six product types appear in every file except `catalog_small.ndjson` (LUGGAGE, SHIRT, SHOES, HOME). Fulfilment: mostly merchant-fulfilled (`MFN`, with a
quantity and handling time); about one row in eight is FBA (`FBA`, `AFN` or `AMAZON_*`) with no quantity. Some rows carry
a list price, a sale price with a December window, minimum/maximum seller-allowed prices or a B2B price.

Row numbers are counted the way the readers count them: in CSV and XLSX the header is row 1, so the first data row is
row 2; in Parquet and NDJSON the first record is row 1. Every row not listed under *Rejected* is valid (rows listed under
*Warnings* are valid but raise a content-policy warning). `stage` says which gate should catch the row: `row_schema`
(pandera row checks, marketplace rules), `duplicates` (whole-file duplicate SKUs, every occurrence reported),
`product_type` (the product-type schema or an unknown product type), `content_policy`.
"""


def readme(exp: dict) -> str:
    lines = [README_HEAD]
    for title, key in (("Rejected rows", "rejected"), ("Warnings (rows stay valid)", "warnings")):
        lines.append(f"\n## {title}\n\n| file | row | sku | marketplace | defect | field | stage | why |\n"
                     "|---|---|---|---|---|---|---|---|")
        for name, entry in exp.items():
            for bad in entry[key]:
                lines.append(f"| {name} | {bad['row']} | `{bad['sku']}` | {bad['marketplace']} | {bad['defect']} | "
                             f"{bad['field']} | {bad['stage']} | {bad['why']} |")
    totals = ", ".join(f"{name}: {e['rows']} rows, {e['valid_rows']} valid" for name, e in exp.items())
    lines.append(f"\nTotals — {totals}.\n")
    return "\n".join(lines)


def write_all(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = build_all()
    write_csv(out_dir / "catalog_us.csv", rows["catalog_us.csv"], US_HEADERS, delimiter=",", decimal_comma=False,
              bom=False)
    write_csv(out_dir / "catalog_de.csv", rows["catalog_de.csv"], DE_HEADERS, delimiter=";", decimal_comma=True,
              bom=True)
    write_xlsx(out_dir / "catalog_jp.xlsx", rows["catalog_jp.xlsx"])
    typed_frame(rows["catalog_mixed.parquet"], MIXED_HEADERS).write_parquet(out_dir / "catalog_mixed.parquet")
    write_ndjson(out_dir / "catalog_small.ndjson", rows["catalog_small.ndjson"])
    exp = expected(rows)
    (out_dir / "expected.json").write_text(json.dumps(exp, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out_dir / "README.md").write_text(readme(exp), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "samples")
    write_all(parser.parse_args().out)


if __name__ == "__main__":
    main()
