/*
 * jk_qti: imports theory items (判断, 单选, 多选) from IMS QTI 2.1/2.2 and
 * 1EdTech QTI 3.0 XML into a jk_bank_t, one assessmentItem document at a
 * time or every item of an IMS content package (imsmanifest.xml). What is
 * mapped, the metadata convention and every report are described in
 * docs/qti-import.md.
 *
 * What it maps: one choiceInteraction per item. maxChoices = 1 gives a
 * `single` item, any other value a `multi` item, and a two-choice
 * interaction whose choices read 正确/错误, 对/错, true/false or √/× a
 * `judge` item. The key comes from correctResponse (match_correct) or from
 * the mapping (map_response: the choices with a positive value; points are
 * their sum). Choices become options A, B, C... in document order. The stem
 * is the itemBody text with the prompt in place of the interaction.
 *
 * Metadata convention: the bank's own fields that QTI has no place for
 * (level, ref, basis, difficulty, points, and optionally our id) are
 * attributes in the namespace JK_QTI_NS on the item's root element:
 *   <qti-assessment-item xmlns:jikao="urn:jikao:qti-import:1"
 *        jikao:level="5" jikao:ref="2.2.9(3)" jikao:basis="《...》第十条" ...>
 * Items that lack one take it from the jk_qti_defaults_t of the call. An
 * unknown jikao: attribute is an error (a misspelt "dificulty" must not
 * vanish silently).
 *
 * Reports: everything that cannot be mapped is reported through the
 * jk_diag_t as "<file>:<line>: item <id>: <element>: <what>". An item with
 * an unmappable essential part (another interaction, an image, MathML, a
 * template, a key that cannot be expressed) is skipped; a lossy
 * non-essential part (feedback, shuffle="false", fixed choices, a
 * stylesheet, partial credit of a mapping) gives a warning and the item is
 * imported. Items are then added with jk_bank_add_item(), so the bank's own
 * rules (ref exists and suits the level, option texts distinct, stem length)
 * apply unchanged.
 *
 * Safety: documents are parsed by libxml2 from memory with no network, no
 * external entity or DTD loading and no entity substitution; a document of
 * more than JK_QTI_FILE_MAX bytes, in an encoding other than UTF-8, or whose
 * DOCTYPE has an internal subset declaring entities (XXE, billion laughs) is
 * refused before libxml2 sees it. Package hrefs must stay inside the
 * package directory (no absolute paths, no URLs, no escaping "..", no
 * symlinks leading out).
 *
 * Not atomic: items are added one by one; an import that reports errors may
 * have added the items that were fine. The stats say what happened.
 */
#ifndef JK_QTI_H
#define JK_QTI_H

#include <stddef.h>
#include <stdint.h>

#include "jk_bank.h"
#include "jk_diag.h"
#include "jk_err.h"

/* Bound on one XML document (an item or a manifest), bytes. */
#define JK_QTI_FILE_MAX (4u << 20)

/* Namespace of the metadata attributes (level, ref, basis, difficulty,
 * points, id) on an item's root element. */
#define JK_QTI_NS "urn:jikao:qti-import:1"

/* Defaults for items that lack a jikao: attribute. Fill with
 * jk_qti_defaults_init() and set what you need; passing NULL instead of a
 * defaults struct means "no defaults". */
typedef struct {
    int level;                            /* 5, 4 or 3; 0 = none */
    const char *ref;                      /* requirement ref; NULL = none */
    const char *basis;                    /* NULL = none */
    float difficulty;                     /* 0..1; negative = none (0.5) */
    int32_t points_centi[JK_ITEM__COUNT]; /* per type; 0 = 100, 100, 200 */
    const char *id_prefix;                /* prepended to every id; NULL = none */
} jk_qti_defaults_t;

/* Counts of one import call. read = imported + skipped. */
typedef struct {
    size_t read;     /* items considered (documents, or item resources) */
    size_t imported; /* added to the bank */
    size_t skipped;  /* refused; each with at least one error reported */
    size_t warnings; /* warnings reported (lossy, non-essential parts) */
} jk_qti_stats_t;

/* Sets *d to "no defaults" (difficulty -1, everything else 0/NULL). */
void jk_qti_defaults_init(jk_qti_defaults_t *d);

/* Imports the one assessmentItem in xml[0..len); `name` names it in every
 * message ("items/q7.xml"). Strings of d are borrowed for the call only
 * (the bank copies what it keeps). diag may be NULL; *stats (may be NULL) is
 * overwritten with this call's counts.
 * Returns JK_OK when the item was imported, otherwise the code of the first
 * error, with *err (may be NULL) holding its message. A manifest given here
 * is refused (use jk_qti_import_package). Does no I/O. */
jk_err_t jk_qti_import_buffer(jk_bank_t *b, const char *xml, size_t len, const char *name,
                              const jk_qti_defaults_t *d, jk_diag_t *diag,
                              jk_qti_stats_t *stats, jk_error_t *err);

/* Reads one item file (at most JK_QTI_FILE_MAX bytes) and imports it as
 * jk_qti_import_buffer does, naming it by `path`. A file whose root is an
 * IMS manifest is imported as a package (jk_qti_import_package). */
jk_err_t jk_qti_import_file(jk_bank_t *b, const char *path, const jk_qti_defaults_t *d,
                            jk_diag_t *diag, jk_qti_stats_t *stats, jk_error_t *err);

/* Imports every item resource (type imsqti_item_xmlv2p0/2p1/2p2/3p0) of an
 * IMS content package. `path` is the imsmanifest.xml or the package
 * directory holding it. Item hrefs are resolved relative to the manifest's
 * directory and refused when absolute, a URL, or leading outside that
 * directory (lexically or through a symlink). Items are named in messages
 * by their href ("items/q7.xml:23: item q7: ..."). Tests, stimuli and media
 * resources are not items; tests are reported as not imported.
 * Returns JK_OK when every item resource was imported, otherwise the code of
 * the first error (the manifest's own, or an item's), with *err set; the
 * items that could be imported are in the bank either way. */
jk_err_t jk_qti_import_package(jk_bank_t *b, const char *path, const jk_qti_defaults_t *d,
                               jk_diag_t *diag, jk_qti_stats_t *stats, jk_error_t *err);

#endif
