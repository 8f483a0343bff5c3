// The expression language of study definitions: a recursive-descent parser with type checking.
// Grammar (lowest precedence first):
//   or:   and ('or' and)*          and: not ('and' not)*          not: 'not' not | cmp
//   cmp:  sum (('<'|'<='|'>'|'>='|'='|'=='|'!='|'<>') sum | 'is' 'not'? 'null')?
//   sum:  prod (('+'|'-') prod)*   prod: unary (('*'|'/') unary)*  unary: '-' unary | atom
//   atom: number | 'string' | true | false | name | '(' or ')'
#include <cctype>
#include <cstdlib>

#include "study/definition.h"

namespace ark::study {
namespace {

struct Token {
  enum Kind { kEnd, kNum, kStr, kName, kOp } kind = kEnd;
  std::string text;
  int offset = 0;
};

class ExprParser {
 public:
  ExprParser(std::string_view text, const std::vector<Variable>& vars, const std::string& name, int line, int col)
      : text_(text), vars_(vars), name_(name), line_(line), col_(col) {}

  Result<Expr> Parse() {
    ARK_RETURN_IF_ERROR(Lex());
    ARK_ASSIGN_OR_RETURN(Expr e, Or());
    if (tok().kind != Token::kEnd) return Error(tok(), "unexpected '" + tok().text + "'");
    return e;
  }

 private:
  Status ErrorAt(int offset, const std::string& what) const {
    return Status::InvalidArgument(name_ + ":" + std::to_string(line_) + ":" + std::to_string(col_ + offset) + ": " + what);
  }
  Status Error(const Token& t, const std::string& what) const { return ErrorAt(t.offset, what); }
  // Parentheses, 'not' and unary '-' nest by recursion: deeper nesting than any real definition
  // needs is refused instead of exhausting the stack.
  static constexpr int kMaxNesting = 256;
  struct Nest {
    explicit Nest(int* d) : depth(d) { ++*depth; }
    ~Nest() { --*depth; }
    int* depth;
  };
  Status CheckDepth(const Token& t) const {
    if (depth_ <= kMaxNesting) return Status::OK();
    return Error(t, "expression nested too deeply (more than " + std::to_string(kMaxNesting) + " levels)");
  }
  const Token& tok() const { return toks_[pos_]; }
  bool Accept(const char* op) {
    if ((tok().kind == Token::kOp || tok().kind == Token::kName) && tok().text == op) {
      ++pos_;
      return true;
    }
    return false;
  }

  Status Lex() {
    size_t i = 0;
    while (i < text_.size()) {
      char c = text_[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
        continue;
      }
      Token t;
      t.offset = static_cast<int>(i);
      if (std::isdigit(static_cast<unsigned char>(c)) || (c == '.' && i + 1 < text_.size() && std::isdigit(static_cast<unsigned char>(text_[i + 1])))) {
        size_t j = i;
        while (j < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[j])) || text_[j] == '.')) ++j;
        t.kind = Token::kNum;
        t.text = std::string(text_.substr(i, j - i));
        i = j;
      } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t j = i;
        while (j < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[j])) || text_[j] == '_')) ++j;
        t.kind = Token::kName;
        t.text = std::string(text_.substr(i, j - i));
        i = j;
      } else if (c == '\'') {
        size_t j = i + 1;
        while (j < text_.size() && text_[j] != '\'') ++j;
        if (j >= text_.size()) return ErrorAt(t.offset, "unterminated string");
        t.kind = Token::kStr;
        t.text = std::string(text_.substr(i + 1, j - i - 1));
        i = j + 1;
      } else {
        static const char* kOps[] = {"<=", ">=", "==", "!=", "<>", "<", ">", "=", "+", "-", "*", "/", "(", ")"};
        bool found = false;
        for (const char* op : kOps) {
          std::string_view o(op);
          if (text_.substr(i, o.size()) == o) {
            t.kind = Token::kOp;
            t.text = std::string(o);
            i += o.size();
            found = true;
            break;
          }
        }
        if (!found) return ErrorAt(t.offset, std::string("unexpected character '") + c + "'");
      }
      toks_.push_back(std::move(t));
    }
    Token end;
    end.offset = static_cast<int>(text_.size());
    end.text = "end of expression";
    toks_.push_back(end);
    return Status::OK();
  }

  static Expr Binary(std::string op, Type type, Expr a, Expr b) {
    Expr e;
    e.kind = Expr::Kind::kBinary;
    e.type = type;
    e.str = std::move(op);
    e.args.push_back(std::move(a));
    e.args.push_back(std::move(b));
    return e;
  }

  Result<Expr> Or() {
    ARK_ASSIGN_OR_RETURN(Expr a, And());
    while (true) {
      Token t = tok();
      if (!Accept("or")) return a;
      ARK_ASSIGN_OR_RETURN(Expr b, And());
      if (a.type != Type::kBool || b.type != Type::kBool) return Error(t, "type mismatch: 'or' needs bool operands, got " + std::string(TypeName(a.type)) + " and " + TypeName(b.type));
      a = Binary("or", Type::kBool, std::move(a), std::move(b));
    }
  }
  Result<Expr> And() {
    ARK_ASSIGN_OR_RETURN(Expr a, Not());
    while (true) {
      Token t = tok();
      if (!Accept("and")) return a;
      ARK_ASSIGN_OR_RETURN(Expr b, Not());
      if (a.type != Type::kBool || b.type != Type::kBool) return Error(t, "type mismatch: 'and' needs bool operands, got " + std::string(TypeName(a.type)) + " and " + TypeName(b.type));
      a = Binary("and", Type::kBool, std::move(a), std::move(b));
    }
  }
  Result<Expr> Not() {
    Token t = tok();
    if (Accept("not")) {
      Nest nest(&depth_);
      ARK_RETURN_IF_ERROR(CheckDepth(t));
      ARK_ASSIGN_OR_RETURN(Expr a, Not());
      if (a.type != Type::kBool) return Error(t, "type mismatch: 'not' needs a bool, got " + std::string(TypeName(a.type)));
      Expr e;
      e.kind = Expr::Kind::kNot;
      e.type = Type::kBool;
      e.args.push_back(std::move(a));
      return e;
    }
    return Cmp();
  }
  Result<Expr> Cmp() {
    ARK_ASSIGN_OR_RETURN(Expr a, Sum());
    Token t = tok();
    if (Accept("is")) {
      Expr e;
      e.kind = Expr::Kind::kIsNull;
      e.type = Type::kBool;
      e.num = Accept("not") ? 1 : 0;
      if (!Accept("null")) return Error(tok(), "expected 'null' after '" + std::string(e.num ? "is not" : "is") + "'");
      e.args.push_back(std::move(a));
      return e;
    }
    if (t.kind != Token::kOp) return a;
    std::string op = t.text;
    if (op == "==") op = "=";
    if (op == "<>") op = "!=";
    if (op != "<" && op != "<=" && op != ">" && op != ">=" && op != "=" && op != "!=") return a;
    ++pos_;
    ARK_ASSIGN_OR_RETURN(Expr b, Sum());
    bool ok = (IsNumeric(a.type) && IsNumeric(b.type)) || (a.type == b.type && a.type == Type::kDate);
    if (op == "=" || op == "!=") ok = ok || (a.type == b.type);
    if (!ok) {
      std::string why = "type mismatch: cannot compare " + std::string(TypeName(a.type)) + " " + t.text + " " + TypeName(b.type);
      if (a.type == Type::kStr && b.type == Type::kStr) why += " (strings compare only with = and !=)";
      return Error(t, why);
    }
    return Binary(op, Type::kBool, std::move(a), std::move(b));
  }
  Result<Expr> Sum() {
    ARK_ASSIGN_OR_RETURN(Expr a, Prod());
    while (true) {
      Token t = tok();
      if (t.kind != Token::kOp || (t.text != "+" && t.text != "-")) return a;
      ++pos_;
      ARK_ASSIGN_OR_RETURN(Expr b, Prod());
      Type type;
      if (IsNumeric(a.type) && IsNumeric(b.type)) {
        type = (a.type == Type::kFloat || b.type == Type::kFloat) ? Type::kFloat : Type::kInt;
      } else if (t.text == "-" && a.type == Type::kDate && b.type == Type::kDate) {
        type = Type::kInt;  // days between
      } else {
        return Error(t, "type mismatch: cannot apply '" + t.text + "' to " + TypeName(a.type) + " and " + TypeName(b.type));
      }
      a = Binary(t.text, type, std::move(a), std::move(b));
    }
  }
  Result<Expr> Prod() {
    ARK_ASSIGN_OR_RETURN(Expr a, Unary());
    while (true) {
      Token t = tok();
      if (t.kind != Token::kOp || (t.text != "*" && t.text != "/")) return a;
      ++pos_;
      ARK_ASSIGN_OR_RETURN(Expr b, Unary());
      if (!IsNumeric(a.type) || !IsNumeric(b.type)) {
        return Error(t, "type mismatch: cannot apply '" + t.text + "' to " + TypeName(a.type) + " and " + TypeName(b.type));
      }
      Type type = (t.text == "/" || a.type == Type::kFloat || b.type == Type::kFloat) ? Type::kFloat : Type::kInt;
      a = Binary(t.text, type, std::move(a), std::move(b));
    }
  }
  Result<Expr> Unary() {
    Token t = tok();
    if (t.kind == Token::kOp && t.text == "-") {
      ++pos_;
      Nest nest(&depth_);
      ARK_RETURN_IF_ERROR(CheckDepth(t));
      ARK_ASSIGN_OR_RETURN(Expr a, Unary());
      if (!IsNumeric(a.type)) return Error(t, "type mismatch: cannot negate " + std::string(TypeName(a.type)));
      if (a.kind == Expr::Kind::kLiteral) {
        a.num = -a.num;
        return a;
      }
      Expr e;
      e.kind = Expr::Kind::kNeg;
      e.type = a.type;
      e.args.push_back(std::move(a));
      return e;
    }
    return Atom();
  }
  Result<Expr> Atom() {
    Token t = tok();
    Expr e;
    switch (t.kind) {
      case Token::kNum: {
        ++pos_;
        char* end = nullptr;
        e.num = std::strtod(t.text.c_str(), &end);
        if (end != t.text.c_str() + t.text.size()) return Error(t, "bad number '" + t.text + "'");
        e.type = t.text.find('.') == std::string::npos ? Type::kInt : Type::kFloat;
        return e;
      }
      case Token::kStr:
        ++pos_;
        e.type = Type::kStr;
        e.str = t.text;
        return e;
      case Token::kName: {
        ++pos_;
        if (t.text == "true" || t.text == "false") {
          e.type = Type::kBool;
          e.num = t.text == "true" ? 1 : 0;
          return e;
        }
        static const Builtin kBuiltins[] = {Builtin::kAge,        Builtin::kSex,       Builtin::kImdDecile,     Builtin::kPractice,   Builtin::kRegistered,
                                            Builtin::kAlive,      Builtin::kIndexDate, Builtin::kIntervalStart, Builtin::kIntervalEnd};
        for (Builtin b : kBuiltins) {
          if (t.text == BuiltinName(b)) {
            e.kind = Expr::Kind::kBuiltin;
            e.ref = static_cast<int>(b);
            e.type = (b == Builtin::kAge || b == Builtin::kImdDecile) ? Type::kInt
                     : (b == Builtin::kSex || b == Builtin::kPractice) ? Type::kStr
                     : (b == Builtin::kIndexDate || b == Builtin::kIntervalStart || b == Builtin::kIntervalEnd) ? Type::kDate
                                                                        : Type::kBool;
            return e;
          }
        }
        for (size_t i = 0; i < vars_.size(); ++i) {
          if (vars_[i].name == t.text) {
            e.kind = Expr::Kind::kVariable;
            e.ref = static_cast<int>(i);
            e.type = vars_[i].type;
            return e;
          }
        }
        if (t.text == "null") return Error(t, "null is not a value: write 'x is null' or 'x is not null'");
        if (t.text == "and" || t.text == "or" || t.text == "not" || t.text == "is") return Error(t, "expected a value before '" + t.text + "'");
        return Error(t, "unknown variable '" + t.text + "' (variables must be defined before they are used)");
      }
      case Token::kOp:
        if (t.text == "(") {
          ++pos_;
          Nest nest(&depth_);
          ARK_RETURN_IF_ERROR(CheckDepth(t));
          ARK_ASSIGN_OR_RETURN(Expr inner, Or());
          if (!Accept(")")) return Error(tok(), "expected ')'");
          return inner;
        }
        return Error(t, "unexpected '" + t.text + "'");
      case Token::kEnd:
        return Error(t, "unexpected end of expression");
    }
    return Error(t, "unexpected token");
  }

  std::string_view text_;
  const std::vector<Variable>& vars_;
  const std::string& name_;
  int line_, col_;
  std::vector<Token> toks_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

Result<Expr> ParseExpr(std::string_view text, const std::vector<Variable>& vars, const std::string& name, int line, int col) {
  return ExprParser(text, vars, name, line, col).Parse();
}

const char* TypeName(Type t) {
  switch (t) {
    case Type::kBool: return "bool";
    case Type::kInt: return "int";
    case Type::kFloat: return "float";
    case Type::kDate: return "date";
    case Type::kStr: return "str";
  }
  return "?";
}

const char* BuiltinName(Builtin b) {
  switch (b) {
    case Builtin::kAge: return "age";
    case Builtin::kSex: return "sex";
    case Builtin::kImdDecile: return "imd_decile";
    case Builtin::kPractice: return "practice";
    case Builtin::kRegistered: return "registered";
    case Builtin::kAlive: return "alive";
    case Builtin::kIndexDate: return "index_date";
    case Builtin::kIntervalStart: return "interval_start";
    case Builtin::kIntervalEnd: return "interval_end";
  }
  return "?";
}

const char* AggName(Agg a) {
  switch (a) {
    case Agg::kExists: return "exists";
    case Agg::kCount: return "count";
    case Agg::kFirst: return "first";
    case Agg::kLast: return "last";
    case Agg::kMin: return "min";
    case Agg::kMax: return "max";
    case Agg::kMean: return "mean";
  }
  return "?";
}

}  // namespace ark::study
